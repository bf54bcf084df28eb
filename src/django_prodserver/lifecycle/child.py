"""A child process from its start to its end: started, asked to stop, killed, reaped.

`start()` is the one place a process of this package starts another (the runner its
children and its watchdog, devserver's reloader its worker, a release step): no shell,
`argv[0]` run as it is with `env` as its whole environment, signals back to their
defaults, in a process group of its own unless asked otherwise, and nothing inherited but
what is named (its output, `pass_fds`). `stop()` is the one way it ends: each process its
stop signal, then its timeout, then what is left of its group killed, nothing left behind.

Only the standard library, and few modules of it: the runner's own interpreter and its
watchdog import it, and each module is memory they hold for as long as they run (plain
classes here, not dataclasses, whose import costs more than the rest together).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

# Signals a child must not inherit as ignored or handled: Python ignores SIGPIPE and
# SIGXFSZ, and the processes that start children handle the ones they pass on.
DEFAULT_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGPIPE", "SIGXFSZ", "SIGINT", "SIGTERM", "SIGQUIT", "SIGHUP", "SIGCHLD")
    if hasattr(signal, name)
)
# How often a stop looks whether what it waits for has ended (no signal says so).
POLL = 0.05


class ChildProcess:
    """A process this one started: its pid, and the reading end of its output (captured).

    `own_group`: it leads a process group of its own (its pid is the group's id), which
    is killed whole at the end; otherwise it shares this process's group and only it is
    killed. `code` is its exit code once it has been reaped (see `os.waitstatus_to_exitcode`).
    """

    def __init__(self, pid: int, output: int | None = None, own_group: bool = True) -> None:
        self.pid = pid
        self.output = output
        self.own_group = own_group
        self.code: int | None = None

    def __repr__(self) -> str:
        return f"ChildProcess(pid={self.pid}, output={self.output}, code={self.code})"

    def send(self, signum: int) -> None:
        """`signum` to the process itself (not its group: a server stops its own workers)."""
        if self.code is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)

    def ended(self) -> bool:
        """Whether it has ended (reaped here, its exit code kept)."""
        if self.code is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.pid, 0  # reaped elsewhere: nothing to tell
            if pid:
                self.code = os.waitstatus_to_exitcode(status)
        return self.code is not None

    def kill(self) -> None:
        """SIGKILL to what is left of it: its whole group, or the process alone."""
        if self.own_group:
            signal_group(self.pid, signal.SIGKILL)
        elif self.code is None:
            self.send(signal.SIGKILL)


def start(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    capture_output: bool,
    own_group: bool = True,
    keep_stdin: bool = False,
    pass_fds: Sequence[int] = (),
    executable: str | None = None,
) -> ChildProcess:
    """Start `argv` (the program `executable`, else `argv[0]`) with `env` as its environment.

    `capture_output`: its stdout and stderr go into one pipe, whose reading end (made
    non-blocking) is the child's `output`; else it writes where this process writes.
    Its stdin is nothing (`/dev/null`) unless `keep_stdin`. `pass_fds` are inherited at
    their numbers; no other descriptor Python opened is (they are not inheritable, PEP 446).
    """
    actions: list[tuple[int, ...] | tuple[int, int, str, int, int]] = []
    if not keep_stdin:
        actions.append((os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0))
    read_end = write_end = -1
    if capture_output:
        read_end, write_end = os.pipe()
        actions += [(os.POSIX_SPAWN_DUP2, write_end, 1), (os.POSIX_SPAWN_DUP2, write_end, 2)]
    passed = [fd for fd in pass_fds if not os.get_inheritable(fd)]
    # Left out, setpgroup keeps the parent's group (None is refused).
    group: dict[str, Any] = {"setpgroup": 0} if own_group else {}
    try:
        for fd in passed:
            os.set_inheritable(fd, True)
        pid = os.posix_spawn(
            executable or argv[0],
            list(argv),
            dict(env),
            file_actions=actions,
            setsigdef=DEFAULT_SIGNALS,
            **group,
        )
    except OSError:
        if capture_output:
            os.close(read_end)
        raise
    finally:
        for fd in passed:
            os.set_inheritable(fd, False)
        if capture_output:
            os.close(write_end)
    if capture_output:
        os.set_blocking(read_end, False)
        return ChildProcess(pid, read_end, own_group)
    return ChildProcess(pid, None, own_group)


def signal_group(pgid: int, signum: int) -> bool:
    """Send `signum` to every process of the group; False when none is left."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


if TYPE_CHECKING:
    from typing import Protocol

    class Stoppable(Protocol):
        """What `stop()` needs of a process: ask it, tell its end, kill what is left of it."""

        def send(self, signum: int) -> None: ...

        def ended(self) -> bool: ...

        def kill(self) -> None: ...


class Stop:
    """How one process is stopped: `signal` (None: it has been sent already), then
    `timeout` seconds to end before what is left of it is killed."""

    def __init__(
        self, process: Stoppable, stop_signal: signal.Signals | None, timeout: float
    ) -> None:
        self.process = process
        self.signal = stop_signal
        self.timeout = timeout


def stop(
    stops: Sequence[Stop],
    on_timeout: Callable[[Stop], None] = lambda stop: None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Stop every process at once, each with its own signal and timeout; return once all
    have ended and what was left of each (its workers) has been killed.

    `on_timeout` is told of each process that has not ended within its timeout, before
    it is killed.
    """
    started_at = clock()
    for each in stops:
        if each.signal is not None:
            each.process.send(each.signal)
    deadlines: list[tuple[Stop, float | None]] = [
        (each, started_at + each.timeout) for each in stops
    ]
    while deadlines:
        now = clock()
        waiting: list[tuple[Stop, float | None]] = []
        for each, deadline in deadlines:
            if each.process.ended():
                each.process.kill()
            elif deadline is not None and now >= deadline:
                on_timeout(each)
                each.process.kill()
                waiting.append((each, None))  # killed: its end is near
            else:
                waiting.append((each, deadline))
        deadlines = waiting
        if deadlines:
            sleep(POLL)


def wait(
    child: ChildProcess, until: Callable[[], bool] = lambda: False, poll: float = POLL
) -> int | None:
    """Wait for the child to end, its exit code; None as soon as `until()` holds first."""
    while not child.ended():
        if until():
            return None
        time.sleep(poll)
    return child.code


def stop_one(
    child: ChildProcess,
    stop_signal: signal.Signals | None,
    timeout: float,
    on_timeout: Callable[[], None] = lambda: None,
) -> int:
    """`stop()` of one child this process started; its exit code."""
    stop([Stop(child, stop_signal, timeout)], lambda _: on_timeout())
    assert child.code is not None
    return child.code
