"""The signals the runner acts on, read in its event loop from a pipe.

Python runs a signal handler between two bytecodes of the main thread; here the handler
does nothing and `signal.set_wakeup_fd` writes each signal's number to a pipe that the
runner's `select` watches, so a signal wakes the loop wherever it waits.
"""

from __future__ import annotations

import os
import signal
from types import FrameType, TracebackType
from typing import Any

# Stop every process (a second one: kill what is left at once).
STOP = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
# Replace every process in turn with a new one, new code included (see rolling.py).
RELOAD = (signal.SIGHUP,)
# A child ended (or, as PID 1, an orphan): time to reap.
CHILD = (signal.SIGCHLD,)
HANDLED = (*STOP, *RELOAD, *CHILD)


def _wake(signum: int, frame: FrameType | None) -> None:
    """The number is already in the wake-up pipe."""


class SignalInbox:
    """While open, the handled signals arrive as numbers on `fd`."""

    def __init__(self) -> None:
        self.fd = -1
        self._write_end = -1
        self._previous: dict[int, Any] = {}
        self._previous_wakeup = -1

    def __enter__(self) -> SignalInbox:
        self.fd, self._write_end = os.pipe()
        os.set_blocking(self.fd, False)
        os.set_blocking(self._write_end, False)
        self._previous_wakeup = signal.set_wakeup_fd(self._write_end, warn_on_full_buffer=False)
        for signum in HANDLED:
            self._previous[signum] = signal.signal(signum, _wake)
        return self

    def read(self) -> list[signal.Signals]:
        try:
            data = os.read(self.fd, 512)
        except BlockingIOError:
            return []
        return [signal.Signals(number) for number in data]

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_wakeup)
        os.close(self.fd)
        os.close(self._write_end)
