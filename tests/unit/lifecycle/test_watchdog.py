"""The watchdog with real, short-lived processes: it stops what its supervisor leaves."""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_prodserver.lifecycle.child import ChildProcess, start, wait
from django_prodserver.lifecycle.watchdog import Watchdog
from tests.unit.lifecycle.test_child import PLAIN, STUBBORN, alive, read_line

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pidfds: Linux")


@pytest.fixture
def watchdog() -> Iterator[Watchdog]:
    """A watchdog that has named itself: it has set itself up."""
    started = Watchdog.start()
    assert started is not None
    deadline = time.monotonic() + 30
    while Path(f"/proc/{started.process.pid}/comm").read_text().strip() != "runner-watchdog":
        assert time.monotonic() < deadline, "the watchdog never named itself"
        time.sleep(0.02)
    yield started
    started.close()
    assert wait(started.process) == 0


def child(code: str) -> ChildProcess:
    started = start([sys.executable, "-c", code], {}, capture_output=True)
    assert read_line(started) == "ready"
    return started


def gone_within(started: ChildProcess, seconds: float) -> float:
    began = time.monotonic()
    while not started.ended():
        assert time.monotonic() - began < seconds, f"{started.pid} still runs"
        time.sleep(0.02)
    return time.monotonic() - began


def test_it_is_named_for_what_it_is_holds_a_few_mb_and_has_a_group_of_its_own(watchdog):
    pid = watchdog.process.pid
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert command[0] == b"prodserver-watchdog"
    assert os.getpgid(pid) == pid
    found = re.search(r"^Pss:\s+(\d+) kB", Path(f"/proc/{pid}/smaps_rollup").read_text(), re.M)
    assert found is not None
    pss = int(found[1])
    # The target is 10 MB (bench/runner_tree_pss.py measures about 6); a watchdog forked
    # from a process with Django loaded holds 20 MB and more.
    assert pss < 15 * 1024, pss


def test_when_its_supervisor_goes_each_child_gets_its_signal_then_its_timeout(watchdog):
    plain, stubborn = child(PLAIN), child(STUBBORN)
    watchdog.watch(plain.pid, signal.SIGTERM, 30)
    watchdog.watch(stubborn.pid, signal.SIGTERM, 2)
    watchdog.close()  # as when the supervisor dies: its end of the socket closes
    began = time.monotonic()
    assert gone_within(plain, 10) < 10  # its SIGTERM at once, not its 30 s
    assert plain.code == -signal.SIGTERM
    assert alive(stubborn.pid), "killed before its timeout"
    gone_within(stubborn, 2 + 15)
    assert time.monotonic() - began >= 1.5  # not before its timeout
    assert stubborn.code == -signal.SIGKILL


def test_a_forgotten_child_is_left_alone(watchdog):
    kept, forgotten = child(PLAIN), child(PLAIN)
    watchdog.watch(kept.pid, signal.SIGTERM, 30)
    watchdog.watch(forgotten.pid, signal.SIGTERM, 30)
    watchdog.forget(forgotten.pid)
    watchdog.close()
    gone_within(kept, 10)
    assert wait(watchdog.process) == 0
    assert not forgotten.ended()
    forgotten.send(signal.SIGKILL)
    wait(forgotten)


def test_it_outlives_the_signals_that_stop_its_supervisor(watchdog):
    plain = child(PLAIN)
    watchdog.watch(plain.pid, signal.SIGTERM, 30)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        os.kill(watchdog.process.pid, signum)
    time.sleep(0.5)
    assert not watchdog.process.ended()
    watchdog.close()
    gone_within(plain, 10)
