"""The processes a supervisor started stop when it dies, even by SIGKILL.

The runner (and devserver's reloader) sends each child its stop signal when asked to stop,
and kills what is left of it after its STOP_TIMEOUT; killed by `kill -9` or the OOM
killer, it can do neither, and its children would go on without it, holding their ports.
So a supervisor starts one watchdog for all its children: a small interpreter of its own
(`python -S -m django_prodserver.lifecycle.watchdog`, shown in `ps` as
`prodserver-watchdog`), started fresh rather than forked, so that it holds none of the
supervisor's memory, in a process group of its own, so that a signal to the supervisor's
group does not reach it.

The two are joined by a socket. The supervisor tells it of each child it starts (its
stop signal, its timeout, and a pidfd, which a reused pid cannot fool) and of each it has
done with; the watchdog does nothing else until the supervisor's end of the socket closes.
Then each child still running gets its stop signal and its timeout, as the supervisor
would have given them, and what is left of its group is killed (`child.stop()`); the
watchdog ends with the last of them. A supervisor that ends cleanly has done with every
child, and its watchdog ends at once.

A child is told its supervisor's pid (`DJANGO_PRODSERVER_RUNNER_PID`): one whose supervisor
died before it could be watched finds another parent, and does not start.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys

# Only the standard library, and little of it (see child.py): the watchdog imports this.
from django_prodserver.lifecycle.child import ChildProcess, Stop, signal_group, start, stop

# The pid of the supervisor that started this process, in its environment.
RUNNER_PID = "DJANGO_PRODSERVER_RUNNER_PID"
# How the watchdog shows in `ps` (its command line) and in `top` (its name).
COMMAND_NAME = "prodserver-watchdog"
PROCESS_NAME = "runner-watchdog"
MODULE = "django_prodserver.lifecycle.watchdog"
# The signals that stop a supervisor: the watchdog outlives them, to do its work after.
OUTLIVED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
MESSAGE_SIZE = 256


class Watchdog:
    """The supervisor's side: what it tells its watchdog."""

    def __init__(self, channel: socket.socket, process: ChildProcess) -> None:
        self.channel = channel
        self.process = process

    @classmethod
    def start(cls) -> Watchdog | None:
        """The watchdog of this process's children; None where Linux's pidfds are not."""
        if not hasattr(os, "pidfd_open") or not hasattr(signal, "pidfd_send_signal"):
            return None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        package_folder = os.path.dirname(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        )
        argv = [COMMAND_NAME, "-S", "-m", MODULE, str(theirs.fileno())]
        try:
            process = start(
                argv,
                {"PYTHONPATH": package_folder},
                capture_output=False,
                pass_fds=[theirs.fileno()],
                executable=sys.executable,
            )
        except OSError:
            ours.close()
            return None
        finally:
            theirs.close()
        return cls(ours, process)

    def watch(self, pid: int, stop_signal: signal.Signals, stop_timeout: float) -> None:
        """Have the child `pid` (just started, not yet reaped) stopped if this process dies."""
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return  # a kernel older than 5.3: nothing to watch it with
        try:
            message = f"watch {pid} {stop_signal.name} {stop_timeout!r}".encode()
            with contextlib.suppress(OSError):  # the watchdog is gone: nothing to tell
                socket.send_fds(self.channel, [message], [pidfd])
        finally:
            os.close(pidfd)

    def forget(self, pid: int) -> None:
        """The child `pid` and its group are gone: nothing of it is to be stopped."""
        with contextlib.suppress(OSError):
            self.channel.send(f"forget {pid}".encode())

    def close(self) -> None:
        """Done: with every child forgotten, the watchdog ends at once."""
        self.channel.close()


class Watched:
    """A child of the supervisor, as the watchdog sees it: through a pidfd."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self.pidfd = pidfd

    def send(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self.pidfd, signum)

    def ended(self) -> bool:
        readable, _, _ = select.select([self.pidfd], [], [], 0)
        return bool(readable)

    def kill(self) -> None:
        signal_group(self.pid, signal.SIGKILL)


def watch(channel: socket.socket) -> dict[int, Stop]:
    """What the supervisor says, until its end closes: the children left to stop."""
    watched: dict[int, Stop] = {}
    while True:
        message, fds, _, _ = socket.recv_fds(channel, MESSAGE_SIZE, 1)
        if not message:
            return watched
        word, pid, *rest = message.decode().split()
        if word == "watch":
            stop_signal, timeout = rest
            watched[int(pid)] = Stop(
                Watched(int(pid), fds[0]), signal.Signals[stop_signal], float(timeout)
            )
        elif word == "forget" and int(pid) in watched:
            forgotten = watched.pop(int(pid)).process
            assert isinstance(forgotten, Watched)
            os.close(forgotten.pidfd)


def main(argv: list[str]) -> int:
    for signum in OUTLIVED:
        signal.signal(signum, signal.SIG_IGN)
    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
        comm.write(PROCESS_NAME)  # named once it outlives them (not Linux: the command line)
    with socket.socket(fileno=int(argv[1])) as channel:
        left = watch(channel)
    stop(list(left.values()))
    return 0


def check_the_runner_lives(name: str) -> None:
    """In a child: refuse to start when the supervisor that started it has already died.

    Nothing happens when this process was not started by a supervisor.
    """
    runner = os.environ.pop(RUNNER_PID, None)
    if runner is not None and os.getppid() != int(runner):
        sys.exit(f"'{name}' was started by a runner (pid {runner}) that has ended; not starting.")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
