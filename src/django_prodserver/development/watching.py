"""Which files a reloaded worker depends on, and how their changes are seen.

The files are those Django's own autoreloader watches for runserver: every module this
process has loaded (`django.utils.autoreload.iter_all_python_module_files()`, which skips
what has no file) and the folders of `sys.path` (`sys_path_directories()`). Unlike
runserver, the watching process is not the worker, which imports its task modules later
(or only when a task runs), so every `.py` file under the project's own folders of
`sys.path` is watched too: those outside the interpreter's installation and
site-packages, leaving out hidden folders, `__pycache__` and `node_modules`.

With `watchfiles` installed, the system says when a file changes; without it, the files'
modification times are compared every half second.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from django.utils import autoreload

# Forces the polling watcher, where the system's file events do not arrive (some network
# file systems, folders shared into a virtual machine).
POLL_VARIABLE = "DJANGO_PRODSERVER_RELOADER"
POLL_INTERVAL = 0.5
# How often watchfiles' wait returns with nothing, for the reloader to look at its signals.
WAKE_UP = 0.2
SKIPPED_FOLDERS = ("__pycache__", "node_modules")


class Watcher(Protocol):
    """Says which watched files changed, waiting at most `timeout` seconds for one."""

    description: str

    def changes(self, timeout: float) -> set[Path]: ...

    def close(self) -> None: ...


def installation_folders() -> set[Path]:
    """The interpreter's own folders: the standard library, site-packages, the prefixes."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()}
    folders.update(getattr(site, "getsitepackages", list)())
    folders.add(site.getusersitepackages())
    return {Path(folder).resolve() for folder in folders if folder}


def project_folders() -> list[Path]:
    """The folders of `sys.path` that hold the project's code, outermost first."""
    installed = installation_folders()
    folders: list[Path] = []
    for folder in sorted(set(autoreload.sys_path_directories()), key=lambda p: len(p.parts)):
        if any(folder == other or other in folder.parents for other in installed):
            continue
        if any(outer in folder.parents for outer in folders):
            continue
        folders.append(folder)
    return folders


def python_files(folders: Iterable[Path]) -> Iterator[Path]:
    """Every `.py` file under `folders`, skipping hidden, cache and installation folders."""
    installed = installation_folders()
    for folder in folders:
        for root, subfolders, files in os.walk(folder):
            subfolders[:] = [
                name
                for name in subfolders
                if not name.startswith(".")
                and name not in SKIPPED_FOLDERS
                and Path(root, name) not in installed
            ]
            yield from (Path(root, name) for name in files if name.endswith(".py"))


def is_project_file(path: Path, folders: Iterable[Path]) -> bool:
    """Whether `path` is one of the `.py` files `python_files(folders)` yields."""
    if path.suffix != ".py":
        return False
    for folder in folders:
        if folder in path.parents:
            inner = path.relative_to(folder).parts[:-1]
            return not any(part.startswith(".") or part in SKIPPED_FOLDERS for part in inner)
    return False


def watched_files(folders: Iterable[Path]) -> set[Path]:
    """The loaded modules' files, and the project's `.py` files."""
    return {*autoreload.iter_all_python_module_files(), *python_files(folders)}


class PollingWatcher:
    """Compares the files' modification times every POLL_INTERVAL seconds."""

    def __init__(self, folders: list[Path], reason: str) -> None:
        self.folders = folders
        self.description = f"polling every {POLL_INTERVAL:g} s ({reason})"
        self.times = self.snapshot()

    def snapshot(self) -> dict[Path, int]:
        times = {}
        for path in watched_files(self.folders):
            try:
                times[path] = path.stat().st_mtime_ns
            except OSError:
                continue
        return times

    def changes(self, timeout: float) -> set[Path]:
        time.sleep(timeout)
        before, self.times = self.times, self.snapshot()
        return {
            path
            for path in before.keys() | self.times.keys()
            if before.get(path) != self.times.get(path)
        }

    def close(self) -> None:
        pass


class WatchfilesWatcher:
    """File events from the system, through `watchfiles`."""

    def __init__(self, watchfiles: Any, folders: list[Path]) -> None:
        self.folders = folders
        # Installed libraries are watched file by file; the project's folders whole, so
        # that a module the worker imports later is seen too.
        outside = [
            path
            for path in autoreload.iter_all_python_module_files()
            if not any(folder in path.parents for folder in folders)
        ]
        self.modules = set(outside)
        self.description = "watchfiles"
        self.stop = _Flag()
        self.events = watchfiles.watch(
            *folders,
            *outside,
            watch_filter=self.wanted,
            stop_event=self.stop,
            yield_on_timeout=True,
            rust_timeout=int(WAKE_UP * 1000),
            step=50,
            raise_interrupt=False,
        )

    def wanted(self, change: Any, path: str) -> bool:
        file = Path(path)
        return file in self.modules or is_project_file(file, self.folders)

    def changes(self, timeout: float) -> set[Path]:
        # Each step returns after at most WAKE_UP (not `timeout`: watchfiles' step is fixed),
        # with what changed, maybe nothing; a burst of saves comes as one batch.
        try:
            batch = next(self.events)
        except StopIteration:
            return set()
        return {Path(path) for _, path in batch}

    def close(self) -> None:
        self.stop.set()
        self.events.close()


class _Flag:
    """The `stop_event` watchfiles polls: anything with `is_set()`."""

    def __init__(self) -> None:
        self.value = False

    def set(self) -> None:
        self.value = True

    def is_set(self) -> bool:
        return self.value


def make_watcher() -> Watcher:
    """watchfiles when it is installed, unless polling is asked for; else polling."""
    folders = project_folders()
    if os.environ.get(POLL_VARIABLE, "").lower() == "poll":
        return PollingWatcher(folders, f"{POLL_VARIABLE}=poll")
    try:
        import watchfiles
    except ImportError:
        reason = "watchfiles is not installed: pip install 'django-prodserver[dev]' to watch "
        return PollingWatcher(folders, reason + "without polling")
    return WatchfilesWatcher(watchfiles, folders)
