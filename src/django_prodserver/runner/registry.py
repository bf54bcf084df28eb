"""Where a running runner can be found: `prodserver --reload` from another shell.

Each runner writes a record, a file named by its pid, in a folder of its project: one per
user, project folder (manage.py's) and settings module, under `$XDG_RUNTIME_DIR` (else the
system's temporary folder), readable by its user only. The record holds the pid and the
process's start time, so that a pid used again by another process is not taken for the
runner; `--reload` also checks that the process runs the runner's supervisor. The
supervisor removes its record when it ends; a record left by a runner that was killed is
removed by the next `--reload` that finds it stale.

Several runners of one project (`prodserver web` in one shell, `prodserver worker` in
another) each have a record, and `--reload` reloads each of them.

Only the standard library: the supervisor imports this.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import stat
import tempfile
from dataclasses import dataclass

SUPERVISOR_MODULE = "django_prodserver.runner.supervise"


def record_folder(project: str, settings: str, uid: int | None = None) -> str:
    """The folder of this project's runner records."""
    import hashlib  # here: the supervisor, which imports this module, needs none of it

    uid = os.getuid() if uid is None else uid
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    key = hashlib.sha256(f"{project}\0{settings}".encode()).hexdigest()[:16]
    return os.path.join(base, f"django-prodserver-{uid}", key)


def start_time(pid: int) -> str | None:
    """The process's start time since boot, in clock ticks (Linux); None where unknown."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def make_private_folder(folder: str) -> None:
    """Make `folder` (`.../django-prodserver-UID/KEY`); OSError unless the user's folder is
    a real directory of this user that no one else can enter.

    In a shared temporary folder another user could have made `django-prodserver-UID`
    first, or a link there to somewhere else, for this runner to write its record in.
    """
    user_folder = os.path.dirname(folder)
    os.makedirs(user_folder, mode=0o700, exist_ok=True)
    found = os.lstat(user_folder)
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        raise OSError(errno.EPERM, f"{user_folder} is not this user's alone: remove it")
    os.makedirs(folder, mode=0o700, exist_ok=True)


def write_record(folder: str, names: list[str]) -> str:
    """Record this process as a runner of the project; the record's path."""
    make_private_folder(folder)
    pid = os.getpid()
    path = os.path.join(folder, str(pid))
    record = {"pid": pid, "started": start_time(pid), "names": names}
    temporary = f"{path}.tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
        json.dump(record, file)
    os.replace(temporary, path)
    return path


def remove_record(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


@dataclass(frozen=True)
class Runner:
    pid: int
    names: tuple[str, ...]


def running_runners(folder: str) -> list[Runner]:
    """The live runners recorded in `folder`; stale records are removed."""
    try:
        make_private_folder(folder)
        entries = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for entry in entries:
        path = os.path.join(folder, entry)
        if not entry.isdigit():
            continue
        try:
            with open(path) as file:
                record = json.load(file)
            pid = int(record["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            remove_record(path)
            continue
        if is_runner(pid, record.get("started")):
            found.append(Runner(pid, tuple(record.get("names", ()))))
        else:
            remove_record(path)
    return found


def is_runner(pid: int, started: str | None) -> bool:
    """Whether `pid` lives and is the runner that wrote the record (not a reused pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # another user's process: not this user's runner
    if not os.path.isdir(f"/proc/{pid}"):
        return True  # no /proc to tell by: alive is all that can be known
    if started is not None and start_time(pid) != started:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            words = file.read().split(b"\0")
    except OSError:
        return False
    return SUPERVISOR_MODULE.encode() in words


def reload_runners(runners: list[Runner]) -> None:
    for runner in runners:
        with contextlib.suppress(ProcessLookupError):
            os.kill(runner.pid, signal.SIGHUP)
