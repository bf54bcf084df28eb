"""A child's life with real, short-lived processes: started, stopped, nothing left behind."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from django_prodserver.lifecycle.child import ChildProcess, Stop, start, stop, stop_one, wait

PYTHON = sys.executable
# Says it is ready (its stdout), then ignores SIGTERM and sleeps.
STUBBORN = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)
# Says it is ready, then sleeps until SIGTERM ends it (the default action).
PLAIN = "import time; print('ready', flush=True); time.sleep(60)"


def read_line(child: ChildProcess, timeout: float = 30) -> str:
    assert child.output is not None
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        assert time.monotonic() < deadline, f"no line from {child.pid}: {data!r}"
        try:
            data += os.read(child.output, 4096)
        except BlockingIOError:
            time.sleep(0.01)
    return data.decode().splitlines()[0]


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def started(code: str) -> ChildProcess:
    child = start([PYTHON, "-c", code], {"PATH": os.environ.get("PATH", "")}, capture_output=True)
    assert read_line(child) == "ready"
    return child


def test_a_child_has_a_group_of_its_own_default_signals_its_own_env_and_no_stdin():
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        child = start(
            [
                PYTHON,
                "-c",
                "import os, signal, sys; print(os.getpgrp() == os.getpid(), "
                "signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "
                # Python sets LC_CTYPE itself where the locale is C (PEP 538).
                "sorted(set(os.environ) - {'LC_CTYPE'}), "
                "sys.stdin.read() == '', flush=True)",
            ],
            {"ONLY": "this"},
            capture_output=True,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert wait(child) == 0
    assert read_line(child) == "True True ['ONLY'] True"


def test_a_child_can_be_given_a_descriptor_and_nothing_else():
    read_end, write_end = os.pipe()
    other_read, other_write = os.pipe()  # not named: not passed on
    try:
        child = start(
            [
                PYTHON,
                "-c",
                f"import os; os.write({write_end}, b'x'); os.write({other_write}, b'y')",
            ],
            {},
            capture_output=True,
            pass_fds=[write_end],
        )
        assert wait(child) == 1  # the second write fails: that descriptor is not its
        assert os.read(read_end, 1) == b"x"
        assert not os.get_inheritable(write_end)  # as it was before the start
    finally:
        for fd in (read_end, write_end, other_read, other_write):
            os.close(fd)


def test_a_stop_that_is_heeded_waits_for_nothing_more():
    child = started(PLAIN)
    began = time.monotonic()
    code = stop_one(child, signal.SIGTERM, 30)
    assert code == -signal.SIGTERM
    assert time.monotonic() - began < 10  # not its 30 s timeout


def test_a_child_that_ignores_its_stop_signal_is_killed_at_its_timeout_and_said_so():
    child = started(STUBBORN)
    timed_out: list[int] = []
    began = time.monotonic()
    code = stop_one(child, signal.SIGTERM, 1, lambda: timed_out.append(child.pid))
    took = time.monotonic() - began
    assert code == -signal.SIGKILL
    assert timed_out == [child.pid]
    assert 0.9 <= took < 10, took


def test_what_is_left_of_the_group_is_killed_when_the_main_process_ends():
    # The main process starts a worker of its group, says its pid, and exits on SIGTERM.
    code = (
        "import subprocess, sys, time; "
        "w = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(w.pid, flush=True); time.sleep(60)"
    )
    child = start([PYTHON, "-c", code], {}, capture_output=True)
    worker = int(read_line(child))
    assert alive(worker)
    stop_one(child, signal.SIGTERM, 30)
    deadline = time.monotonic() + 10
    while alive(worker):
        assert time.monotonic() < deadline, "the worker outlived its main process"
        time.sleep(0.05)


def test_several_stop_together_each_with_its_own_timeout():
    quick, slow = started(STUBBORN), started(STUBBORN)
    timed_out: list[float] = []
    began = time.monotonic()
    stop(
        [Stop(quick, signal.SIGTERM, 1), Stop(slow, signal.SIGTERM, 2)],
        lambda each: timed_out.append(each.timeout),
    )
    took = time.monotonic() - began
    assert timed_out == [1, 2]
    assert (quick.code, slow.code) == (-signal.SIGKILL, -signal.SIGKILL)
    assert 1.9 <= took < 2 + 8, took  # at once: about the longer timeout, not the sum


def test_a_child_in_this_process_group_is_killed_alone():
    child = start([PYTHON, "-c", STUBBORN], {}, capture_output=True, own_group=False)
    assert read_line(child) == "ready"
    assert os.getpgid(child.pid) == os.getpgrp()
    assert stop_one(child, signal.SIGTERM, 0.5) == -signal.SIGKILL  # and this test lives on


def test_waiting_ends_early_when_asked():
    child = started(PLAIN)
    assert wait(child, until=lambda: True) is None
    assert stop_one(child, None, 0) == -signal.SIGKILL  # nothing sent: killed at once


def test_a_program_that_cannot_start_is_an_os_error_and_leaves_no_descriptor():
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(FileNotFoundError):
        start(["/nonexistent/python"], {}, capture_output=True)
    assert set(os.listdir("/proc/self/fd")) == before
