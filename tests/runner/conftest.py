"""Fixtures of the runner's tests."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import suppress

import pytest

from tests.support import Running


@pytest.fixture(autouse=True)
def kill_whole_session(started: list[Running]) -> Iterator[None]:
    """The runner's children have process groups of their own, in the runner's session:
    after a failed test, kill them too, not only the runner's group."""
    yield
    for running in started:
        for pid in running.session_pids():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
