"""The runner's standard output, opened so that a write never waits for a reader.

A write to a pipe or a terminal that nobody reads (a stalled log driver, a paused
terminal) waits until someone does; the runner, waiting there, would no longer act on
signals. So it writes through a non-blocking descriptor: a write takes what fits, and the
printer keeps the rest for later (see printer.py).

Where it can, the runner opens a descriptor of its own onto the same pipe or terminal
(`/proc/self/fd/1`), so that the non-blocking mode does not reach the other processes
that share its standard output (the shell it was started from). A socket (systemd's
journal) cannot be opened again: its mode is set non-blocking and put back at the end. A
regular file never waits for a reader, and is written as it is.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO


@contextlib.contextmanager
def nonblocking_output(fd: int = 1) -> Iterator[BinaryIO]:
    """A raw, non-blocking stream onto `fd` (`write` may take part of the data, or none)."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        mode = stat.S_IFREG  # closed: writes fail, and the printer drops them
    own = -1
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        with contextlib.suppress(OSError):
            flags = os.O_WRONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
            own = os.open(f"/proc/self/fd/{fd}", flags)
    was_blocking = None
    if own < 0 and not stat.S_ISREG(mode):
        with contextlib.suppress(OSError):
            was_blocking = os.get_blocking(fd)
            os.set_blocking(fd, False)
    stream = io.FileIO(own if own >= 0 else fd, "wb", closefd=own >= 0)
    try:
        yield stream
    finally:
        stream.close()
        if was_blocking:
            with contextlib.suppress(OSError):
                os.set_blocking(fd, True)
