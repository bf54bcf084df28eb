"""Whether a worker's process runs here: for frameworks that offer no liveness check of their own.

A process is this worker's when its command line is `manage.py prodserver NAME` (or the
`worker`/`server` alias, as the runner starts its children) with this project's
`manage.py`, or the planned command that a backend replaced itself with. `/proc` is
read: Linux, and the same PID namespace as the worker (inside its container, or on its
host).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from django_prodserver.errors import ProbeFailed

COMMANDS = ("prodserver", "worker", "server")
PROC = Path("/proc")


def command_lines() -> Iterator[tuple[int, list[str]]]:
    """Every other process's PID and argv (those that cannot be read are skipped)."""
    own = os.getpid()
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if raw and state != "Z":
            yield int(entry.name), raw.decode(errors="replace").rstrip("\0").split("\0")


def runs_process(pid: int, argv: Sequence[str], name: str, planned: Sequence[str]) -> bool:
    if "--probe" in argv or "--dry-run" in argv:
        return False
    for index, word in enumerate(argv):
        if word in COMMANDS and index > 0 and argv[index - 1].endswith(".py"):
            return name in argv[index + 1 :] and same_script(pid, argv[index - 1])
    tail = list(planned[1:])
    return bool(tail) and any(argv[i : i + len(tail)] == tail for i in range(len(argv)))


def same_script(pid: int, script: str) -> bool:
    """Whether `script`, as process `pid` named it from its working directory, is our manage.py."""
    try:
        path = Path(os.readlink(PROC / str(pid) / "cwd")) / script
        return path.resolve() == Path(sys.argv[0]).resolve()
    except OSError:
        return False


def check_process_alive(name: str, server: str, planned: Sequence[str]) -> str:
    """The PID of the process running `name` here, as a sentence; ProbeFailed if none."""
    if not PROC.is_dir():
        raise ProbeFailed(
            f"Process '{name}': {server} offers no liveness check, and without /proc "
            f"(Linux) the probe cannot see whether its process runs."
        )
    pids = [pid for pid, argv in command_lines() if runs_process(pid, argv, name, planned)]
    if not pids:
        raise ProbeFailed(
            f"Process '{name}': no running process of it here ({server} offers no liveness "
            f"check of its own: the probe looks for its process)."
        )
    return f"its process runs (PID {min(pids)}); {server} offers no liveness check of its own"
