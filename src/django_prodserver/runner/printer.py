"""The runner's output: every child's lines, whole, each prefixed with the time and its name."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import BinaryIO

from django_prodserver.masking import mask_secrets

# The name of the runner's own lines (its messages), beside the processes' names.
RUNNER = "prodserver"
# A line longer than this is cut into pieces of this size, each printed as a line of
# its own, so that a child writing without newlines cannot fill the runner's memory.
LONGEST_LINE = 1024 * 1024
# ANSI colours for the names, in order, as honcho and foreman give them.
COLOURS = (36, 33, 32, 35, 34, 31, 96, 93, 92, 95, 94, 91)
RESET = b"\x1b[0m"


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


class Printer:
    """Writes lines to one stream, one `write` per batch, so lines never mix."""

    def __init__(
        self,
        stream: BinaryIO,
        names: Sequence[str],
        colour: bool,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stream = stream
        self.clock = clock
        width = max(len(name) for name in [RUNNER, *names])
        self.prefixes = {
            name: self._name(name, width, COLOURS[index % len(COLOURS)] if colour else None)
            for index, name in enumerate([*names, RUNNER])
        }
        self._second = -1
        self._time = b""

    @staticmethod
    def _name(name: str, width: int, colour: int | None) -> bytes:
        label = f"{name:<{width}} | ".encode()
        if colour is None:
            return label
        return f"\x1b[{colour}m".encode() + label + RESET

    def _timestamp(self) -> bytes:
        now = self.clock()
        if int(now) != self._second:
            self._second = int(now)
            self._time = time.strftime("%H:%M:%S ", time.localtime(now)).encode()
        return self._time

    def lines(self, name: str, lines: Iterable[bytes]) -> None:
        """A child's lines, as the child wrote them (bytes, not decoded)."""
        prefix = self._timestamp() + self.prefixes[name]
        batch = b"".join(prefix + line.rstrip(b"\r") + b"\n" for line in lines)
        if batch:
            self._write(batch)

    def message(self, text: str) -> None:
        """One of the runner's own messages, secrets masked."""
        self.lines(RUNNER, [mask_secrets(line).encode() for line in text.splitlines()])

    def _write(self, data: bytes) -> None:
        try:
            self.stream.write(data)
            self.stream.flush()
        except BrokenPipeError:
            # Nobody reads the output any more; the processes still run and stop as asked.
            self._drop_output()

    def _drop_output(self) -> None:
        self.stream = open(os.devnull, "wb")  # noqa: SIM115 - lives as long as the printer.


def wants_colour(options: Mapping[str, object], stream: BinaryIO) -> bool:
    """Colour on a terminal, as Django decides for its own commands; never with --no-color."""
    if options.get("no_color") or os.environ.get("NO_COLOR"):
        return False
    if options.get("force_color"):
        return True
    return stream.isatty() and os.environ.get("TERM") != "dumb"
