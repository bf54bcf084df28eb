"""Waiting for what an example task leaves behind: lines appended to a file (jobs.effects)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support import Running


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_for_lines(path: Path, expected: list[str], worker: Running, timeout: float = 30) -> None:
    """Wait until every expected line is in the file; fail early if the worker exits."""
    deadline = time.monotonic() + timeout
    while not set(expected) <= set(lines_of(path)):
        if worker.popen.poll() is not None:
            raise AssertionError(
                f"the worker exited with {worker.popen.returncode} before {expected} were "
                f"recorded (got {lines_of(path)}):\n{worker.output}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{expected} not recorded after {timeout} s (got {lines_of(path)}):\n"
                f"{worker.output}"
            )
        time.sleep(0.05)
