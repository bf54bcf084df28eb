"""The runner's event loop, replaying histories on a fake system, as honcho's tests do.

The fake system's clock moves only when the manager waits; its processes write, end and
answer signals as each test's `Run`s say; it records what reached them: every start, and
every signal to a process or to a group, with the time.
"""

from __future__ import annotations

import heapq
import io
import itertools
import os
import selectors
import signal
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from django_prodserver.lifecycle.child import ChildProcess
from django_prodserver.processes import ProcessSpec
from django_prodserver.runner.backoff import Backoff
from django_prodserver.runner.child import Child
from django_prodserver.runner.manager import Manager
from django_prodserver.runner.printer import RUNNER, Printer

INBOX_FD = 3
OUTPUT_FD = 4
# Past this fake time, or this many waits, the history has gone wrong: the manager would
# never end, or loops without waiting.
TOO_LONG = 600.0
TOO_MANY_WAITS = 10_000


@dataclass
class Run:
    """What one run of a process does.

    It writes each of `output` (seconds after its start, bytes) and ends `ends_after`
    seconds after its start with `code` (negative: killed by that signal), or never by
    itself (None). Any signal but SIGKILL and SIGHUP asks it to stop: it exits with
    status 0 `stops_after` seconds later, or ignores it (None). With `workers`, processes
    of its group outlive it until they are killed (and keep its pipe open). With `error`,
    it cannot start.
    """

    output: tuple[tuple[float, bytes], ...] = ()
    ends_after: float | None = None
    code: int = 0
    stops_after: float | None = 0.5
    workers: bool = False
    error: OSError | None = None


@dataclass
class Process:
    name: str
    pid: int
    fd: int
    run: Run
    alive: bool = True
    workers: bool = False
    stopping: bool = False
    status: int | None = None  # the wait status once it has ended, until it is reaped


@dataclass
class Pipe:
    data: bytearray
    closed: bool = False


class System:
    """The processes, pipes, signals and time that the manager sees."""

    def __init__(self, runs: dict[str, list[Run]], signals=()) -> None:
        self.now = 0.0
        self.runs = {name: list(runs_of_name) for name, runs_of_name in runs.items()}
        self.pids = itertools.count(100)
        self.fds = itertools.count(10)
        self.processes: dict[int, Process] = {}  # until reaped
        self.groups: dict[int, Process] = {}
        self.pipes: dict[int, Pipe] = {}  # until the manager closes them
        self.pending: list[signal.Signals] = []
        self.timeline: list[tuple[float, int, Callable[[], None]]] = []
        self.order = itertools.count()
        self.waits = 0
        # (time, "start", name), (time, "kill" or "group", name, signal name)
        self.log: list[tuple[Any, ...]] = []
        self.output: Output | None = None
        for at, signum in signals:
            self.at(at, partial(self.pending.append, signum))

    def manager(self, children, printer, watched=False) -> Manager:
        return Manager(
            children,
            printer,
            clock=lambda: self.now,
            spawn=self.spawn,
            waitpid=self.waitpid,
            kill=self.kill,
            signal_group=self.signal_group,
            read=self.read,
            close=self.close,
            selector=lambda: Selector(self),
            inbox=lambda: Inbox(self),
            watchdog=self if watched else None,
        )

    # Time

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.timeline, (when, next(self.order), action))

    def advance(self, timeout: float) -> None:
        """Up to the next event that is due within `timeout`, and apply what is due then."""
        self.waits += 1
        if self.waits > TOO_MANY_WAITS:
            raise AssertionError(f"woke up {self.waits} times by {self.now} s: {self.log}")
        until = self.now + timeout
        if self.timeline and self.timeline[0][0] <= until:
            self.now = self.timeline[0][0]
            while self.timeline and self.timeline[0][0] <= self.now:
                heapq.heappop(self.timeline)[2]()
        else:
            self.now = until
        if self.now > TOO_LONG:
            raise AssertionError(f"still running at {self.now} s; so far: {self.log}")

    # Processes

    def spawn(self, argv, env) -> ChildProcess:
        name = argv[0]
        runs = self.runs[name]
        run = runs.pop(0) if len(runs) > 1 else runs[0]
        self.log.append((self.now, "start", name))
        if run.error is not None:
            raise run.error
        process = Process(name, next(self.pids), next(self.fds), run, workers=run.workers)
        self.processes[process.pid] = self.groups[process.pid] = process
        self.pipes[process.fd] = Pipe(bytearray())
        for after, data in run.output:
            self.at(self.now + after, partial(self.write, process, data))
        if run.ends_after is not None:
            self.at(self.now + run.ends_after, partial(self.end, process, run.code))
        return ChildProcess(process.pid, process.fd)

    def write(self, process: Process, data: bytes) -> None:
        if process.alive:
            self.pipes[process.fd].data += data

    def end(self, process: Process, code: int) -> None:
        if not process.alive:
            return
        process.alive = False
        process.status = code << 8 if code >= 0 else -code
        self.pending.append(signal.SIGCHLD)
        self.close_if_empty(process)

    def close_if_empty(self, process: Process) -> None:
        """The write end of its pipe closes with the last process of its group."""
        if not process.alive and not process.workers and process.fd in self.pipes:
            self.pipes[process.fd].closed = True

    def waitpid(self, pid: int, options: int) -> tuple[int, int]:
        assert (pid, options) == (-1, os.WNOHANG)
        for process in self.processes.values():
            if process.status is not None:
                del self.processes[process.pid]
                return process.pid, process.status
        if not self.processes:
            raise ChildProcessError
        return 0, 0

    def kill(self, pid: int, signum: int) -> None:
        if pid not in self.processes:
            raise ProcessLookupError
        process = self.processes[pid]
        self.log.append((self.now, "kill", process.name, signal.Signals(signum).name))
        self.deliver(process, signum)

    def signal_group(self, pgid: int, signum: int) -> bool:
        process = self.groups[pgid]
        if not (process.alive or process.workers):
            return False
        if signum == 0:
            return True
        self.log.append((self.now, "group", process.name, signal.Signals(signum).name))
        if signum == signal.SIGKILL:
            process.workers = False
            self.close_if_empty(process)
        self.deliver(process, signum)
        return True

    def deliver(self, process: Process, signum: int) -> None:
        if not process.alive or signum == signal.SIGHUP:
            return
        if signum == signal.SIGKILL:
            self.end(process, -signal.SIGKILL)
        elif process.run.stops_after is not None and not process.stopping:
            process.stopping = True
            self.at(self.now + process.run.stops_after, partial(self.end, process, 0))

    # The watchdog, when the history has one: what it is told, in the log

    def watch(self, pid: int, stop_signal: signal.Signals, stop_timeout: float) -> None:
        name = self.processes[pid].name
        self.log.append((self.now, "watch", name, stop_signal.name, stop_timeout))

    def forget(self, pid: int) -> None:
        self.log.append((self.now, "forget", self.groups[pid].name))

    # Pipes

    def read(self, fd: int, size: int) -> bytes:
        pipe = self.pipes[fd]
        if pipe.data:
            chunk = bytes(pipe.data[:size])
            del pipe.data[:size]
            return chunk
        if pipe.closed:
            return b""
        raise BlockingIOError

    def close(self, fd: int) -> None:
        del self.pipes[fd]

    def writable(self, fd: int) -> bool:
        assert fd == OUTPUT_FD, "only the runner's own output is written"
        return self.output is not None and self.output.blocked_until <= self.now

    def readable(self, fd: int) -> bool:
        if fd == INBOX_FD:
            return bool(self.pending)
        pipe = self.pipes[fd]
        return bool(pipe.data) or pipe.closed


class Selector(selectors.BaseSelector):
    """Ready when the fake system says so; waiting moves its clock."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.keys: dict[int, selectors.SelectorKey] = {}

    def register(self, fileobj, events, data=None) -> selectors.SelectorKey:
        key = selectors.SelectorKey(fileobj, fileobj, events, data)
        self.keys[fileobj] = key
        return key

    def unregister(self, fileobj) -> selectors.SelectorKey:
        return self.keys.pop(fileobj)

    def get_map(self):
        return self.keys

    def select(self, timeout=None) -> list[tuple[selectors.SelectorKey, int]]:
        assert timeout is not None, "the manager always wakes up to look again"
        if not self.ready():
            self.system.advance(timeout)
        return self.ready()

    def ready(self) -> list[tuple[selectors.SelectorKey, int]]:
        ready = []
        for fd, key in sorted(self.keys.items()):
            if key.events & selectors.EVENT_WRITE and self.system.writable(fd):
                ready.append((key, selectors.EVENT_WRITE))
            elif key.events & selectors.EVENT_READ and self.system.readable(fd):
                ready.append((key, selectors.EVENT_READ))
        return ready


class Output(io.RawIOBase):
    """The runner's standard output: takes nothing until `blocked_until`, then at most
    `takes` bytes a write (everything: None)."""

    def __init__(self, system: System, blocked_until: float = 0.0, takes: int | None = None):
        self.system = system
        self.blocked_until = blocked_until
        self.takes = takes
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int | None:
        if self.blocked_until > self.system.now:
            return None
        taken = bytes(data[: self.takes] if self.takes is not None else data)
        self.data += taken
        return len(taken)

    def fileno(self) -> int:
        return OUTPUT_FD


class Inbox:
    fd = INBOX_FD

    def __init__(self, system: System) -> None:
        self.system = system

    def __enter__(self) -> Inbox:
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def read(self) -> list[signal.Signals]:
        signals = list(self.system.pending)
        self.system.pending.clear()
        return signals


def highest(low: float, high: float) -> float:
    return high


def child(name, restart="never", stop_signal=signal.SIGTERM, stop_timeout=10.0, backoff=None):
    spec = ProcessSpec(
        name, "test", restart=restart, stop_signal=stop_signal.name, stop_timeout=stop_timeout
    )
    return Child(spec, (name,), {}, backoff or Backoff(uniform=highest))


@dataclass
class Replayed:
    status: int
    ended_at: float
    printed: list[str]  # the runner's messages as they are, a process's lines as `name | line`
    log: list[tuple[Any, ...]]


def replay(children, runs, signals=(), output=None, backlog=1024 * 1024, watched=False) -> Replayed:
    """`output`: the keywords of the fake output (blocked_until, takes); else a BytesIO."""
    system = System(runs, signals)
    if output is not None:
        system.output = Output(system, **output)
    out: Any = system.output or io.BytesIO()
    names = [c.name for c in children]
    printer = Printer(out, names, colour=False, clock=lambda: 0.0, backlog=backlog)
    status = system.manager(children, printer, watched).run()
    assert not system.pipes, "every pipe is read to its end and closed"
    written = bytes(out.data) if isinstance(out, Output) else out.getvalue()
    printed = []
    for line in written.decode().splitlines():
        name, text = line[len("00:00:00 ") :].split(" | ", 1)
        printed.append(text if name.rstrip() == RUNNER else f"{name.rstrip()} | {text}")
    return Replayed(status, system.now, printed, system.log)


def starts(replayed: Replayed, name: str = "web") -> list[float]:
    return [entry[0] for entry in replayed.log if entry[1:] == ("start", name)]


def test_a_process_that_ends_cleanly():
    replayed = replay([child("web")], {"web": [Run(ends_after=2.0)]})
    assert replayed.status == 0
    assert replayed.printed == [
        "web started (pid 100).",
        "web exited with status 0 after 2.0 s. Not started again (RESTART is 'never').",
    ]
    assert replayed.log == [(0.0, "start", "web")]


def test_a_crash_is_started_again_after_the_backoffs_delay():
    asked = []

    def three_quarters(low, high):
        asked.append((low, high))
        return high * 0.75

    web = child("web", restart="on-failure", backoff=Backoff(first=2.0, uniform=three_quarters))
    crash = Run(ends_after=1.0, code=1, workers=True)
    replayed = replay([web], {"web": [crash, Run()]}, signals=[(5.0, signal.SIGTERM)])
    assert asked == [(1.0, 2.0)]
    assert replayed.log == [
        (0.0, "start", "web"),
        (1.0, "group", "web", "SIGKILL"),
        (2.5, "start", "web"),
        (5.0, "kill", "web", "SIGTERM"),
    ]
    assert replayed.printed == [
        "web started (pid 100).",
        "Killed what was left of web's process group.",
        "web exited with status 1 after 1.0 s. "
        "Starting it again in 1.5 s (RESTART is 'on-failure').",
        "web started (pid 101).",
        "SIGTERM received: sending SIGTERM to web, which has 10 s to stop.",
        "web exited with status 0.",
    ]
    assert replayed.status == 0


@pytest.mark.parametrize(
    ("policy", "code", "again"),
    [
        ("never", 0, False),
        ("never", 1, False),
        ("on-failure", 0, False),
        ("on-failure", 1, True),
        ("on-failure", -signal.SIGKILL, True),
        ("always", 0, True),
        ("always", 1, True),
    ],
)
def test_the_restart_policy_decides_whether_it_starts_again(policy, code, again):
    runs = {"web": [Run(ends_after=1.0, code=code), Run()]}
    replayed = replay([child("web", restart=policy)], runs, signals=[(5.0, signal.SIGTERM)])
    how = "was killed by SIGKILL" if code < 0 else f"exited with status {code}"
    if again:
        assert starts(replayed) == [0.0, 1.5]
        assert replayed.printed[1] == (
            f"web {how} after 1.0 s. Starting it again in 0.5 s (RESTART is '{policy}')."
        )
        assert replayed.status == 0
    else:
        assert starts(replayed) == [0.0]
        assert replayed.printed[-2 if code else -1] == (
            f"web {how} after 1.0 s. Not started again (RESTART is '{policy}')."
        )
        assert replayed.status == (1 if code else 0)


def test_from_the_third_crash_in_a_row_it_says_the_process_keeps_crashing():
    crash = Run(ends_after=1.0, code=1)
    runs = {"web": [crash, crash, crash, crash, Run()]}
    replayed = replay([child("web", restart="always")], runs, signals=[(15.0, signal.SIGTERM)])
    assert starts(replayed) == [0.0, 1.5, 3.5, 6.5, 11.5]
    ended = [line for line in replayed.printed if line.startswith("web exited with status 1")]
    assert ended == [
        "web exited with status 1 after 1.0 s. Starting it again in 0.5 s (RESTART is 'always').",
        "web exited with status 1 after 1.0 s. Starting it again in 1.0 s (RESTART is 'always').",
        "web exited with status 1 after 1.0 s. It keeps ending: 3 times in a row. "
        "Starting it again in 2.0 s (RESTART is 'always').",
        "web exited with status 1 after 1.0 s. It keeps ending: 4 times in a row. "
        "Starting it again in 4.0 s (RESTART is 'always').",
    ]


def test_a_stop_sends_each_process_its_own_stop_signal_to_its_main_process_only():
    children = [
        child("web", restart="always", stop_signal=signal.SIGQUIT),
        child("worker", restart="always", stop_signal=signal.SIGINT, stop_timeout=30),
    ]
    runs = {"web": [Run(workers=True)], "worker": [Run(stops_after=2.0)]}
    replayed = replay(children, runs, signals=[(3.0, signal.SIGTERM)])
    assert replayed.log[2:4] == [
        (3.0, "kill", "web", "SIGQUIT"),
        (3.0, "kill", "worker", "SIGINT"),
    ]
    assert replayed.printed[2:] == [
        "SIGTERM received: sending SIGQUIT to web, which has 10 s to stop.",
        "SIGTERM received: sending SIGINT to worker, which has 30 s to stop.",
        "web exited with status 0.",
        "worker exited with status 0.",
        # web's workers outlived it: the rest of its group is killed at its deadline.
        "web did not stop within 10 s (STOP_TIMEOUT): killing what is left of it.",
    ]
    assert replayed.log[4:] == [(pytest.approx(13.0), "group", "web", "SIGKILL")]
    assert replayed.status == 0


@pytest.mark.parametrize(
    ("run", "end"),
    [
        (Run(stops_after=None), ["web was killed by SIGKILL."]),
        (Run(stops_after=0.5, workers=True), []),
    ],
    ids=["ignores-the-signal", "its-workers-outlive-it"],
)
def test_what_has_not_stopped_at_stop_timeout_is_killed_with_its_group(run, end):
    web = child("web", stop_timeout=5)
    replayed = replay([web], {"web": [run]}, signals=[(2.0, signal.SIGTERM)])
    assert replayed.log == [
        (0.0, "start", "web"),
        (2.0, "kill", "web", "SIGTERM"),
        (pytest.approx(7.0), "group", "web", "SIGKILL"),
    ]
    killing = "web did not stop within 5 s (STOP_TIMEOUT): killing what is left of it."
    assert replayed.printed[-1 - len(end) :] == [killing, *end]
    assert replayed.status == 0


def test_a_second_stop_signal_kills_at_once():
    web = child("web", stop_timeout=30)
    signals = [(2.0, signal.SIGTERM), (3.0, signal.SIGTERM)]
    replayed = replay([web], {"web": [Run(stops_after=None)]}, signals)
    assert replayed.log == [
        (0.0, "start", "web"),
        (2.0, "kill", "web", "SIGTERM"),
        (3.0, "group", "web", "SIGKILL"),
    ]
    assert replayed.printed[-2:] == [
        "SIGTERM received again: killing web.",
        "web was killed by SIGKILL.",
    ]


def test_hangups_together_restart_each_worker_in_turn_once():
    hup, term = signal.SIGHUP, signal.SIGTERM
    signals = [(1.0, hup), (1.05, hup), (1.1, hup), (9.0, term)]
    children = [child("worker", stop_timeout=5), child("tasks")]
    runs = {"worker": [Run(), Run()], "tasks": [Run(stops_after=1.0), Run()]}
    replayed = replay(children, runs, signals)
    # One reload, once the signals have settled: each stopped warmly, started again, in turn.
    assert [entry for entry in replayed.log if entry[0] < 9.0] == [
        (0.0, "start", "worker"),
        (0.0, "start", "tasks"),
        (1.2, "kill", "worker", "SIGTERM"),
        (1.7, "start", "worker"),
        (1.7, "kill", "tasks", "SIGTERM"),
        (2.7, "start", "tasks"),
    ]
    assert "SIGHUP received: reloading every process in turn." in replayed.printed
    assert replayed.printed.count("SIGHUP received: reloading every process in turn.") == 1
    assert "Reload done: 2 processes replaced in 1.5 s." in replayed.printed
    assert replayed.status == 0


def test_a_hangup_during_a_reload_makes_one_more_after_it():
    hup, term = signal.SIGHUP, signal.SIGTERM
    signals = [(1.0, hup), (1.5, hup), (1.6, hup), (9.0, term)]
    runs = {"worker": [Run(stops_after=1.0)] * 3}
    replayed = replay([child("worker", restart="always")], runs, signals)
    assert starts(replayed, "worker") == pytest.approx([0.0, 2.2, 3.4])
    assert replayed.printed.count("Reload done: 1 process replaced in 1.0 s.") == 2
    assert any("one more reload follows this one" in line for line in replayed.printed)


def test_the_exit_status_is_1_when_a_process_failed_for_good():
    children = [child("web"), child("worker"), child("tasks")]
    runs = {
        "web": [Run(ends_after=1.0, code=3)],
        "worker": [Run(ends_after=2.0)],
        "tasks": [Run(error=FileNotFoundError(2, "No such file or directory", "tasks"))],
    }
    replayed = replay(children, runs)
    assert replayed.status == 1
    assert replayed.printed[2] == (
        "tasks could not start: [Errno 2] No such file or directory: 'tasks'. Not started again."
    )
    assert replayed.printed[-1] == "Exiting with status 1: web, tasks failed."


def test_a_processs_lines_are_printed_with_its_name_before_its_end():
    children = [child("web"), child("worker")]
    runs = {
        "web": [Run(output=((0.5, b"hello\nwor"), (1.0, b"ld\nlast words")), ends_after=1.0)],
        "worker": [Run(output=((0.75, b"working\n"),), ends_after=2.0)],
    }
    replayed = replay(children, runs)
    assert replayed.printed == [
        "web started (pid 100).",
        "worker started (pid 101).",
        "web | hello",
        "worker | working",
        "web | world",
        # Written as it ended, without a newline: read out before its end is told.
        "web | last words",
        "web exited with status 0 after 1.0 s. Not started again (RESTART is 'never').",
        "worker exited with status 0 after 2.0 s. Not started again (RESTART is 'never').",
    ]


def numbered(count: int, start: int = 0) -> bytes:
    return b"".join(b"line %04d\n" % number for number in range(start, start + count))


def test_output_nobody_reads_neither_stalls_the_runner_nor_delays_a_stop():
    # 100 lines of 10 bytes every 0.1 s, against a backlog of 2,000 bytes.
    writes = tuple((0.1 * n, numbered(100, 100 * n)) for n in range(1, 50))
    runs = {"web": [Run(output=writes, stops_after=1.0)]}
    web = child("web", stop_timeout=5)
    replayed = replay(
        [web], runs, signals=[(3.0, signal.SIGTERM)], output={"blocked_until": 1e9}, backlog=2000
    )
    assert replayed.log == [(0.0, "start", "web"), (3.0, "kill", "web", "SIGTERM")]
    assert replayed.status == 0
    assert replayed.printed == []  # nothing was taken
    # Stopped 1 s after SIGTERM; the last lines were offered for 1 s more (FINAL_FLUSH).
    assert replayed.ended_at == pytest.approx(5.0)


def test_lines_dropped_while_nobody_reads_are_counted_and_told_once():
    writes = tuple((0.1 * n, numbered(10, 10 * n)) for n in range(1, 30))
    runs = {"web": [Run(output=writes, ends_after=4.0)]}
    # Each line is 32 bytes with its prefix: the backlog holds 20 of them.
    replayed = replay([child("web")], runs, output={"blocked_until": 2.05}, backlog=640)
    web_lines = [line for line in replayed.printed if line.startswith("web | ")]
    numbers = [int(line.split()[-1]) for line in web_lines]
    assert numbers == sorted(numbers), "in order"
    assert numbers[:20] == list(range(10, 30))  # the first 20 waited whole
    assert numbers[20:] == list(range(210, 300))  # written once the output took lines again
    told = [line for line in replayed.printed if "dropped" in line]
    assert told == ["180 lines of web dropped: nobody reads the output."]
    assert replayed.printed.index(told[0]) < replayed.printed.index("web | line 0210")


def test_lines_arrive_whole_when_the_output_takes_a_few_bytes_at_a_time():
    writes = ((0.5, numbered(50)), (1.0, numbered(50, 50)))
    runs = {"web": [Run(output=writes, ends_after=1.5)], "worker": [Run(ends_after=1.2)]}
    replayed = replay(
        [child("web"), child("worker")], runs, output={"blocked_until": 0.0, "takes": 7}
    )
    assert [line for line in replayed.printed if line.startswith("web | ")] == [
        f"web | line {number:04d}" for number in range(100)
    ]
    assert replayed.printed[-1].startswith("web exited with status 0")


def test_the_watchdog_is_told_of_each_start_and_of_each_group_gone():
    web = child("web", restart="on-failure", stop_signal=signal.SIGQUIT, stop_timeout=5)
    crash = Run(ends_after=1.0, code=1, workers=True)
    runs = {"web": [crash, Run(stops_after=0.5, workers=True)]}
    replayed = replay([web], runs, signals=[(3.0, signal.SIGTERM)], watched=True)
    assert [entry for entry in replayed.log if entry[1] in ("watch", "forget")] == [
        (0.0, "watch", "web", "SIGQUIT", 5),
        (1.0, "forget", "web"),  # its workers killed as it ended
        (1.5, "watch", "web", "SIGQUIT", 5),
        (pytest.approx(8.0), "forget", "web"),  # its group emptied at its stop timeout
    ]


def test_a_stop_during_a_reload_starts_nothing_again():
    signals = [(1.0, signal.SIGHUP), (2.0, signal.SIGTERM)]
    children = [child("worker"), child("tasks")]
    runs = {"worker": [Run(stops_after=3.0)], "tasks": [Run()]}
    replayed = replay(children, runs, signals)
    assert starts(replayed, "worker") == [0.0]
    assert starts(replayed, "tasks") == [0.0]
    # The worker was asked once (by the reload) and not again; tasks by the stop.
    assert [entry for entry in replayed.log if entry[1] == "kill"] == [
        (1.2, "kill", "worker", "SIGTERM"),
        (2.0, "kill", "tasks", "SIGTERM"),
    ]
    assert replayed.ended_at == pytest.approx(4.2)
    assert replayed.status == 0
    assert not any("Reload done" in line for line in replayed.printed)
