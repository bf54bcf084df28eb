"""The runner's event loop: start, watch, restart and stop the processes.

One thread, one `select`: the children's output pipes, the signal pipe, the next timer
(a restart that is due, a stop timeout), and, while lines wait for it, the runner's own
output becoming writable: the loop never waits on a write (see printer.py), so a stop
signal acts on time whoever reads the output. What happens when a process ends:

- its policy says to start it again (RESTART "always", or "on-failure" after a non-zero
  status or a signal): it starts again after a backoff delay, with a message each time;
- otherwise it has ended for good; the others keep running, and the runner exits once
  nothing is left to run: status 1 when a process failed for good, else 0.

Whatever was left of the process's group is killed before it starts again, so that a
crashed server's orphaned workers do not keep its port.

The runner's watchdog (lifecycle/watchdog.py) is told of each process as it starts and
of each group as it is gone, so that it can stop them if the runner is killed.

Everything the loop asks of the system (starting, reaping and signalling processes,
reading their pipes, waiting for events, the time, the watchdog) is an argument of
`Manager`, the real one by default (no watchdog), so that a test can replay a history with
a fake system.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django_prodserver.lifecycle.child import ChildProcess, signal_group, start
from django_prodserver.runner.child import Child
from django_prodserver.runner.health_probe import HttpProbe
from django_prodserver.runner.printer import LineSplitter, Printer
from django_prodserver.runner.rolling import Reloader
from django_prodserver.runner.signals import RELOAD, STOP, SignalInbox
from django_prodserver.runner.sockets import LISTEN_FDS, listen_fds_value

READ_SIZE = 65536
# How often to look whether a stopped process's group has emptied (no signal says so).
GROUP_POLL = 0.05
# The longest the loop sleeps, in case a SIGCHLD went unnoticed.
LONGEST_WAIT = 1.0
# At the end, how long the output may take to take the last lines before they are dropped.
FINAL_FLUSH = 1.0
# The selector's mark of the runner's own output, writable again.
OUTPUT = "output"
# From this many crashes in a row on, each message says the process keeps crashing.
CRASH_LOOP = 3


@dataclass
class Stream:
    """The output pipe of one run of a process."""

    name: str
    fd: int
    splitter: LineSplitter


class Inbox(Protocol):
    """Where the handled signals arrive: readable `fd`, and `read` to take them."""

    fd: int

    def read(self) -> list[signal.Signals]: ...


class Watcher(Protocol):
    """What the manager tells the runner's watchdog (lifecycle/watchdog.py)."""

    def watch(self, pid: int, stop_signal: signal.Signals, stop_timeout: float) -> None: ...

    def forget(self, pid: int) -> None: ...


def start_captured(
    argv: Sequence[str], env: Mapping[str, str], pass_fds: Sequence[int] = ()
) -> ChildProcess:
    """A child of the runner: in a group of its own, its output into a pipe the loop reads,
    the runner's listening sockets `pass_fds` inherited at their numbers."""
    return start(argv, env, capture_output=True, pass_fds=pass_fds)


class Manager:
    def __init__(
        self,
        children: Sequence[Child],
        printer: Printer,
        clock: Callable[[], float] = time.monotonic,
        *,
        spawn: Callable[..., ChildProcess] = start_captured,
        waitpid: Callable[[int, int], tuple[int, int]] = os.waitpid,
        kill: Callable[[int, int], None] = os.kill,
        signal_group: Callable[[int, int], bool] = signal_group,
        read: Callable[[int, int], bytes] = os.read,
        close: Callable[[int], None] = os.close,
        selector: Callable[[], selectors.BaseSelector] = selectors.DefaultSelector,
        inbox: Callable[[], contextlib.AbstractContextManager[Inbox]] = SignalInbox,
        watchdog: Watcher | None = None,
    ) -> None:
        self.children = list(children)
        self.printer = printer
        self.clock = clock
        self._spawn = spawn
        self._waitpid = waitpid
        self._kill = kill
        self._signal_group = signal_group
        self._read_pipe = read
        self._close_pipe = close
        self._open_inbox = inbox
        self._watchdog = watchdog
        self.selector = selector()
        self.streams: dict[int, Stream] = {}
        self.stopping = False
        self._output_fd: int | None = None
        self.reloader = Reloader(self)

    def run(self) -> int:
        """Run until every process has ended or been stopped; the exit status."""
        with self._open_inbox() as inbox:
            self.selector.register(inbox.fd, selectors.EVENT_READ, None)
            while not all(child.finished for child in self.children):
                self._start_due()
                if not self.stopping:
                    self.reloader.advance()
                    self._start_due()
                self._watch_output()
                for key, _ in self.selector.select(self._wait()):
                    if key.data is None:
                        for signum in inbox.read():
                            self._on_signal(signum)
                    elif key.data == OUTPUT:
                        self.printer.flush()
                    elif isinstance(key.data, HttpProbe):
                        self.reloader.probe_ready()
                        self._rewatch(key.data)
                    else:
                        self._read(key.data)
                self._reap()
                self._watch_groups()
                if not self.stopping:
                    self.reloader.advance()
            self._reap()
            for stream in list(self.streams.values()):
                self._drain(stream)
            failed = [child.name for child in self.children if child.failed]
            if failed:
                self.printer.message(f"Exiting with status 1: {', '.join(failed)} failed.")
            self._flush_output(inbox, self.clock() + FINAL_FLUSH)
        self.selector.close()
        return 1 if failed else 0

    # The runner's own output

    def _watch_output(self) -> None:
        """Wake the loop when the output can take more, only while lines wait for it."""
        watched = self._output_fd
        if self.printer.pending and watched is None:
            self._output_fd = self.printer.fileno()
            self.selector.register(self._output_fd, selectors.EVENT_WRITE, OUTPUT)
        elif not self.printer.pending and watched is not None:
            self.selector.unregister(watched)
            self._output_fd = None

    def _flush_output(self, inbox: Inbox, deadline: float) -> None:
        """The last lines, for as long as `deadline` allows: then they are dropped."""
        while not self.printer.flush() and self.clock() < deadline:
            self._watch_output()
            for key, _ in self.selector.select(max(0.0, deadline - self.clock())):
                if key.data is None:
                    inbox.read()  # everything has stopped: nothing left to act on

    # Starting

    def _start_due(self) -> None:
        now = self.clock()
        for child in self.children:
            if child.start_at is not None and child.start_at <= now and child.pid is None:
                self._start(child)

    def _start(self, child: Child) -> bool:
        child.start_at = None
        fds = (*child.fds, *child.extra_fds)
        env = {**child.env, LISTEN_FDS: listen_fds_value(fds)} if fds else child.env
        try:
            started = (
                self._spawn(child.argv, env, pass_fds=fds) if fds else self._spawn(child.argv, env)
            )
        except OSError as error:
            child.failed = True
            self.printer.message(f"{child.name} could not start: {error}. Not started again.")
            return False
        pid, fd = started.pid, started.output
        assert fd is not None
        if self._watchdog is not None:
            self._watchdog.watch(pid, child.spec.stop_signal_number, child.spec.stop_timeout)
        child.pid, child.pgid, child.started_at = pid, pid, self.clock()
        child.stop_deadline, child.killed = None, False
        stream = Stream(child.name, fd, LineSplitter())
        self.streams[fd] = stream
        self.selector.register(fd, selectors.EVENT_READ, stream)
        self.printer.message(f"{child.name} started (pid {pid}).")
        return True

    # What a reload asks (see rolling.py)

    def say(self, text: str) -> None:
        self.printer.message(text)

    def start_child(self, child: Child) -> bool:
        return self._start(child)

    def retire(self, child: Child) -> None:
        """Stop `child` for good, warmly; it leaves the runner once it has ended."""
        child.retiring, child.start_at = True, None
        if child.pid is None and child.pgid is None:
            self.children.remove(child)
            return
        self._stop_warmly(child)

    def stop_to_restart(self, child: Child) -> None:
        """Stop `child` warmly, to start it again as soon as it has ended."""
        child.restarting = True
        self.printer.message(
            f"Reloading {child.name}: sending {child.spec.stop_signal_number.name} to it "
            f"(pid {child.pid}), which has {child.spec.stop_timeout:g} s to stop; then it "
            f"starts again."
        )
        self._stop_warmly(child)

    def watch_probe(self, probe: HttpProbe | None, previous: HttpProbe | None) -> None:
        """Have the loop wake for `probe` instead of `previous` (either may be None)."""
        if previous is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.selector.unregister(previous)
        if probe is not None and probe.answer is None:
            self.selector.register(probe, probe.events, probe)

    def _rewatch(self, probe: HttpProbe) -> None:
        """A probe that has sent its request waits to read the answer."""
        with contextlib.suppress(KeyError, ValueError):
            if probe.answer is None and self.selector.get_key(probe).events != probe.events:
                self.selector.modify(probe, probe.events, probe)

    def _stop_warmly(self, child: Child) -> None:
        child.stop_deadline = self.clock() + child.spec.stop_timeout
        if child.pid is not None:
            self._signal_process(child.pid, child.spec.stop_signal_number)
        elif child.pgid is not None:
            self._signal_group(child.pgid, child.spec.stop_signal_number)

    # Output

    def _read(self, stream: Stream) -> bool:
        """Print what one read of the pipe gives; False when it had nothing now or has ended."""
        try:
            data = self._read_pipe(stream.fd, READ_SIZE)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if data:
            self.printer.lines(stream.name, stream.splitter.feed(data))
            return True
        self.printer.lines(stream.name, stream.splitter.finish())
        self.selector.unregister(stream.fd)
        del self.streams[stream.fd]
        self._close_pipe(stream.fd)
        return False

    def _drain(self, stream: Stream) -> None:
        """Print what a pipe holds now, so that a process's last lines come before its end."""
        while self._read(stream):
            pass

    # Ending

    def _reap(self) -> None:
        """Collect every ended child; as PID 1 that includes orphans, which need no more."""
        while True:
            try:
                pid, status = self._waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for child in list(self.children):
                if child.pid == pid:
                    self._ended(child, os.waitstatus_to_exitcode(status))

    def _ended(self, child: Child, code: int) -> None:
        for stream in [s for s in self.streams.values() if s.name == child.name]:
            self._drain(stream)
        ran = self.clock() - child.started_at
        pid, child.pid = child.pid, None
        how = describe_exit(code)
        if self.stopping:
            self.printer.message(f"{child.name} {how}.")
            return
        self.reloader.child_ended(child, how)
        child.stop_deadline = None
        pgid, child.pgid = child.pgid, None
        if pgid is not None and self._signal_group(pgid, signal.SIGKILL):
            self.printer.message(f"Killed what was left of {child.name}'s process group.")
        if pgid is not None:
            self._forget(pgid)
        if child.retiring:
            self.printer.message(f"{child.name} (pid {pid}, replaced) {how}.")
            self.children.remove(child)
            return
        if child.restarting:
            child.restarting, child.start_at = False, self.clock()
            self.printer.message(f"{child.name} {how}: starting it again for the reload.")
            return
        policy = child.spec.restart
        if policy == "always" or (policy == "on-failure" and code != 0):
            delay = child.backoff.after_run(ran)
            child.start_at = self.clock() + delay
            crashes = child.backoff.failures
            loop = f" It keeps ending: {crashes} times in a row." if crashes >= CRASH_LOOP else ""
            self.printer.message(
                f"{child.name} {how} after {ran:.1f} s.{loop} "
                f"Starting it again in {delay:.1f} s (RESTART is '{policy}')."
            )
            return
        child.failed = code != 0
        self.printer.message(
            f"{child.name} {how} after {ran:.1f} s. Not started again (RESTART is '{policy}')."
        )

    # Signals and stopping

    def _on_signal(self, signum: signal.Signals) -> None:
        if signum in STOP:
            if self.stopping:
                self._kill_all(signum)
            else:
                self._stop_all(signum)
        elif signum in RELOAD and not self.stopping:
            self.reloader.request(signum.name)

    def _stop_all(self, received: signal.Signals) -> None:
        self.stopping = True
        self.reloader.cancel()
        now = self.clock()
        for child in self.children:
            child.start_at = None
            if child.pgid is None or (child.stop_deadline is not None and not child.killed):
                continue  # gone, or asked to stop already (by a reload): on its way
            stop = child.spec.stop_signal_number
            self.printer.message(
                f"{received.name} received: sending {stop.name} to {child.name}, "
                f"which has {child.spec.stop_timeout:g} s to stop."
            )
            child.stop_deadline = now + child.spec.stop_timeout
            # The main process only, as systemd's KillMode=mixed and Docker do: it stops
            # its own workers. Signalled directly, workers of some servers stop twice or
            # hang (Dramatiq takes a second SIGTERM as "kill now"; django-q2's cluster
            # waits forever on its dead sentinel). The group is killed at the deadline.
            if child.pid is not None:
                self._signal_process(child.pid, stop)
            else:
                self._signal_group(child.pgid, stop)

    def _kill_all(self, received: signal.Signals) -> None:
        for child in self.children:
            if child.pgid is not None and not child.killed:
                self.printer.message(f"{received.name} received again: killing {child.name}.")
                child.killed = True
                self._signal_group(child.pgid, signal.SIGKILL)

    def _watch_groups(self) -> None:
        """Kill the groups out of time; while stopping, forget those that have emptied."""
        now = self.clock()
        for child in self.children:
            if child.pgid is None:
                continue
            if self.stopping and child.pid is None and not self._signal_group(child.pgid, 0):
                self._forget(child.pgid)
                child.pgid = None
            elif child.stop_deadline is not None and now >= child.stop_deadline:
                child.stop_deadline = None
                child.killed = True
                self.printer.message(
                    f"{child.name} did not stop within {child.spec.stop_timeout:g} s "
                    f"(STOP_TIMEOUT): killing what is left of it."
                )
                self._signal_group(child.pgid, signal.SIGKILL)

    def _wait(self) -> float:
        """Seconds until the next thing to do without a signal or output to wake the loop."""
        now = self.clock()
        times = [LONGEST_WAIT, *(at - now for at in self.reloader.wake_at())]
        for child in self.children:
            if child.start_at is not None:
                times.append(child.start_at - now)
            if child.stop_deadline is not None:
                times.append(child.stop_deadline - now)
            if self.stopping and child.pid is None and child.pgid is not None:
                times.append(GROUP_POLL)
        return max(0.0, min(times))

    def _forget(self, pgid: int) -> None:
        if self._watchdog is not None:
            self._watchdog.forget(pgid)

    def _signal_process(self, pid: int, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._kill(pid, signum)


def describe_exit(code: int) -> str:
    """`exited with status 1`, `was killed by SIGKILL`: from `os.waitstatus_to_exitcode`."""
    if code >= 0:
        return f"exited with status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"was killed by {name}"
