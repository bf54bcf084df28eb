"""`--log-format`: how the runner writes each line it prints.

- `plain` (the default): `HH:MM:SS name | line`, the name coloured on a terminal;
- `json`: one JSON object a line, for a log shipper:
  `{"time": "2026-12-07T02:21:18.123Z", "process": "web", "stream": "output", "line": "..."}`;
  `time` is UTC with milliseconds; `stream` is `output` for a process's lines (its stdout
  and stderr share one pipe, in the order it wrote them: the runner cannot tell one from
  the other) and `runner` for the runner's own messages (`process` is then `prodserver`);
  `line` is the text decoded as UTF-8, a byte that is not UTF-8 read as U+FFFD;
- `raw`: the lines alone, as the processes wrote them: no time, no name, no colour.

Only the standard library: the runner's own interpreter imports it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii

PLAIN = "plain"
JSON = "json"
RAW = "raw"
LOG_FORMATS = (PLAIN, JSON, RAW)
OUTPUT_STREAM = "output"
RUNNER_STREAM = "runner"


# The bytes a JSON string holds as they are: printable ASCII but `"` and `\`. A line of
# these alone goes into the object without decoding; the newline joins a batch to look at
# it in one pass (`translate` deletes them all, in C: far quicker than a regex search).
_AS_THEY_ARE = bytes(byte for byte in range(0x20, 0x7F) if byte not in b'"\\')
_AS_THEY_ARE_IN_A_BATCH = _AS_THEY_ARE + b"\n"
_TAIL = b'"}\n'


class JsonFraming:
    """Each line as one JSON object on a line of its own; the runner's named `runner`.

    The time's text is made once a millisecond, the start of each object once per name. A
    batch of plain ASCII lines (most log lines) is framed as it is; a line with anything
    to escape is decoded and escaped, alone.
    """

    def __init__(self, runner: str) -> None:
        self.runner = runner
        self._heads: dict[str, tuple[bytes, bytes]] = {}
        self._millisecond = -1
        self._time = b""

    def _timestamp(self, now: float) -> bytes:
        millisecond = int(now * 1000)
        if millisecond != self._millisecond:
            self._millisecond = millisecond
            seconds, fraction = divmod(millisecond, 1000)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
            self._time = f"{stamp}.{fraction:03d}Z".encode()
        return self._time

    def _head(self, name: str) -> tuple[bytes, bytes]:
        head = self._heads.get(name)
        if head is None:
            stream = RUNNER_STREAM if name == self.runner else OUTPUT_STREAM
            head = (
                b'{"time": "',
                f'", "process": {encode_basestring_ascii(name)}, "stream": "{stream}", '
                f'"line": "'.encode(),
            )
            self._heads[name] = head
        return head

    def batch(self, name: str, lines: Sequence[bytes], now: float) -> bytes:
        """`lines` (at least one) framed, as one run of bytes."""
        start, middle = self._head(name)
        head = start + self._timestamp(now) + middle
        if not b"\n".join(lines).translate(None, _AS_THEY_ARE_IN_A_BATCH):
            return framed(lines, head, _TAIL)
        return b"".join([self._escaped(head, line) for line in lines])

    @staticmethod
    def _escaped(head: bytes, line: bytes) -> bytes:
        line = line.rstrip(b"\r")
        if not line.translate(None, _AS_THEY_ARE):
            return head + line + _TAIL
        text = encode_basestring_ascii(line.decode("utf-8", "replace")).encode()
        return head[:-1] + text + b"}\n"


def framed(lines: Sequence[bytes], head: bytes, tail: bytes) -> bytes:
    """`head + line + tail` for each of `lines` (at least one), as one run of bytes.

    Made in one join: adding the first head and the last tail to the joined lines would
    copy the whole batch twice more, which costs more than the join itself.
    """
    parts = list(lines)
    parts[0] = head + parts[0]
    parts[-1] += tail
    return (tail + head).join(parts)
