"""The runner's output: every child's lines, whole, each prefixed with the time and its name.

Or, with `--log-format` (log_format.py): `json`, one JSON object a line for a log
shipper; `raw`, the lines alone.
"""

from __future__ import annotations

import os
import select
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import BinaryIO

from django_prodserver.masking import mask_secrets
from django_prodserver.runner.log_format import JSON, PLAIN, RAW, JsonFraming, framed

# The name of the runner's own lines (its messages), beside the processes' names.
RUNNER = "prodserver"
# A line longer than this is cut into pieces of this size, each printed as a line of
# its own, so that a child writing without newlines cannot fill the runner's memory.
LONGEST_LINE = 1024 * 1024
# ANSI colours for the names, in order, as honcho and foreman give them.
COLOURS = (36, 33, 32, 35, 34, 31, 96, 93, 92, 95, 94, 91)
RESET = b"\x1b[0m"
# The bytes of one process's lines that may wait for the output to take them (see Printer).
BACKLOG = 1024 * 1024
# A pipe takes a non-blocking write of up to this many bytes whole or not at all; a longer
# one may be cut anywhere. Writes of whole lines up to this size leave no half line behind.
ATOMIC_WRITE = select.PIPE_BUF


class LineSplitter:
    """Cuts the bytes read from one pipe into whole lines; keeps the unfinished one."""

    def __init__(self, longest: int = LONGEST_LINE) -> None:
        self.longest = longest
        self.pending = b""

    def feed(self, data: bytes) -> list[bytes]:
        """The lines that `data` completes, without their newlines."""
        lines = (self.pending + data).split(b"\n")
        self.pending = lines.pop()
        while len(self.pending) >= self.longest:
            lines.append(self.pending[: self.longest])
            self.pending = self.pending[self.longest :]
        return lines

    def finish(self) -> list[bytes]:
        """The last line, when the pipe ended without a newline after it."""
        rest, self.pending = self.pending, b""
        return [rest] if rest else []


class Waiting:
    """A batch of one process's framed lines, written from `start` on."""

    __slots__ = ("data", "name", "start", "view")

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self.data = data
        self.view = memoryview(data)
        self.start = 0


class Printer:
    """Writes whole lines to one stream, in the order they came, without ever waiting on it.

    Lines wait in a queue until the stream takes them: `lines` and `message` add to it
    and write what the stream takes now, `flush` writes more once it can take more (the
    runner's loop calls it when `select` says the stream is writable). Each process's
    lines waiting at a time are bounded by `BACKLOG` bytes: past that, its new lines are
    dropped and counted, and once the stream takes lines again one line says how many
    were lost, so that a stream nobody reads (a stalled log driver, a paused terminal)
    neither stalls the runner nor fills its memory.
    """

    def __init__(
        self,
        stream: BinaryIO,
        names: Sequence[str],
        colour: bool,
        clock: Callable[[], float] = time.time,
        backlog: int = BACKLOG,
        log_format: str = PLAIN,
    ) -> None:
        self.stream = stream
        self.log_format = log_format
        self._json = JsonFraming(RUNNER) if log_format == JSON else None
        colour = colour and log_format == PLAIN
        self.clock = clock
        self.backlog = backlog
        width = max(len(name) for name in [RUNNER, *names])
        self.prefixes = {
            name: self._name(name, width, COLOURS[index % len(COLOURS)] if colour else None)
            for index, name in enumerate([*names, RUNNER])
        }
        self._second = -1
        self._time = b""
        self._queue: deque[Waiting] = deque()
        self._waiting = dict.fromkeys(self.prefixes, 0)  # bytes queued, per name
        self.dropped = dict.fromkeys(self.prefixes, 0)  # lines lost since last said

    @staticmethod
    def _name(name: str, width: int, colour: int | None) -> bytes:
        label = f"{name:<{width}} | ".encode()
        if colour is None:
            return label
        return f"\x1b[{colour}m".encode() + label + RESET

    def _timestamp(self, now: float) -> bytes:
        if int(now) != self._second:
            self._second = int(now)
            self._time = time.strftime("%H:%M:%S ", time.localtime(now)).encode()
        return self._time

    @property
    def pending(self) -> bool:
        """Whether lines wait for the stream to take them."""
        return bool(self._queue)

    def fileno(self) -> int:
        return self.stream.fileno()

    def lines(self, name: str, lines: Iterable[bytes]) -> None:
        """A child's lines, as the child wrote them (bytes, not decoded)."""
        self._add(name, list(lines))
        self.flush()

    def message(self, text: str) -> None:
        """One of the runner's own messages, secrets masked."""
        self.lines(RUNNER, [mask_secrets(line).encode() for line in text.splitlines()])

    def _add(self, name: str, lines: list[bytes]) -> None:
        if not lines:
            return
        now = self.clock()
        batch = self._framed(name, lines, now)
        room = self.backlog - self._waiting[name]
        if len(batch) > room:
            batch = self._within(room, name, [self._framed(name, [line], now) for line in lines])
        if batch:
            self._waiting[name] += len(batch)
            self._queue.append(Waiting(name, batch))

    def _framed(self, name: str, lines: list[bytes], now: float) -> bytes:
        """`lines` in the output's format, as one run of bytes (most batches in one join)."""
        if self._json is not None:
            return self._json.batch(name, lines, now)
        prefix = b"" if self.log_format == RAW else self._timestamp(now) + self.prefixes[name]
        batch = framed(lines, prefix, b"\n")
        if b"\r" in batch:  # a line ending in CR LF: the CR goes
            batch = framed([line.rstrip(b"\r") for line in lines], prefix, b"\n")
        return batch

    def _within(self, room: int, name: str, frames: list[bytes]) -> bytes:
        """The framed lines that fit in `room` bytes; the others dropped and counted."""
        kept = []
        for whole in frames:
            if len(whole) > room:
                self.dropped[name] += 1
                continue
            room -= len(whole)
            kept.append(whole)
        return b"".join(kept)

    def flush(self) -> bool:
        """Write what the stream takes now; True once nothing is left waiting."""
        while self._queue:
            waiting = self._queue[0]
            data, start = waiting.data, waiting.start
            end = whole_lines_end(data, start, ATOMIC_WRITE)
            try:
                written = self.stream.write(waiting.view[start:end])
            except BlockingIOError as error:
                written = error.characters_written
            except BrokenPipeError:
                self._drop_output()
                continue
            if not written:
                return False
            self._waiting[waiting.name] -= written
            waiting.start = start + written
            if waiting.start < len(data):
                if waiting.start < end:
                    return False
                continue
            self._queue.popleft()
            if not self._queue:
                self._tell_dropped()
        return True

    def _tell_dropped(self) -> None:
        """Once the stream takes lines again: how many of each process's were lost."""
        told = [(name, count) for name, count in self.dropped.items() if count]
        for name, count in told:
            self.dropped[name] = 0
            label = "line" if count == 1 else "lines"
            self._add(
                RUNNER, [f"{count} {label} of {name} dropped: nobody reads the output.".encode()]
            )

    def _drop_output(self) -> None:
        # Nobody reads the output any more; the processes still run and stop as asked.
        self.stream = open(os.devnull, "wb")  # noqa: SIM115 - lives as long as the printer.


def whole_lines_end(data: bytes, start: int, size: int) -> int:
    """Where to end a write of `data` from `start`: after its whole lines within `size` bytes.

    A line longer than `size` goes in pieces of `size`: whole only once all are written.
    """
    if len(data) - start <= size:
        return len(data)
    end = data.rfind(b"\n", start, start + size)
    return end + 1 if end >= 0 else start + size


def wants_colour(options: Mapping[str, object], stream: BinaryIO) -> bool:
    """Colour on a terminal, as Django decides for its own commands; never with --no-color."""
    if options.get("no_color") or os.environ.get("NO_COLOR"):
        return False
    if options.get("force_color"):
        return True
    return stream.isatty() and os.environ.get("TERM") != "dumb"
