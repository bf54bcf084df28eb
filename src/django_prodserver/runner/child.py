"""One process of the runner: how it is started, and its state across restarts."""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django_prodserver.runner.backoff import Backoff

# Signals a child must not inherit as ignored or handled: Python ignores SIGPIPE and
# SIGXFSZ, and the runner handles the ones it forwards.
DEFAULT_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGPIPE", "SIGXFSZ", "SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP", "SIGCHLD")
    if hasattr(signal, name)
)


@dataclass(frozen=True)
class ChildSpec:
    """What the runner starts for one process, and how it restarts and stops it."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    restart: str
    stop_signal: signal.Signals
    stop_timeout: float


def spawn(argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, int]:
    """Start `argv` in a process group of its own, stdout and stderr into one pipe.

    The pid and the reading end of the pipe (non-blocking). No shell: `argv[0]` is
    run as it is, with `env` as its whole environment and nothing on stdin.
    """
    read_end, write_end = os.pipe()
    try:
        pid = os.posix_spawn(
            argv[0],
            list(argv),
            dict(env),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, write_end, 1),
                (os.POSIX_SPAWN_DUP2, write_end, 2),
            ],
            setpgroup=0,
            setsigdef=DEFAULT_SIGNALS,
        )
    except OSError:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    os.set_blocking(read_end, False)
    return pid, read_end


def signal_group(pgid: int, signum: int) -> bool:
    """Send `signum` to every process of the group; False when none is left."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Child:
    """A process of the runner across its runs.

    `pid` is its main process while it runs. `pgid` is the process group of the last run
    while the runner still waits for what is left of it (stopping). `start_at` is when it
    is due to start (again), None when it is not to start.
    """

    spec: ChildSpec
    backoff: Backoff = field(default_factory=Backoff)
    pid: int | None = None
    pgid: int | None = None
    start_at: float | None = 0.0
    started_at: float = 0.0
    stop_deadline: float | None = None
    killed: bool = False
    failed: bool = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def finished(self) -> bool:
        return self.pid is None and self.pgid is None and self.start_at is None
