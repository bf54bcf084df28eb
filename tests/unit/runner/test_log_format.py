"""--log-format: the printer's plain, json and raw lines."""

from __future__ import annotations

import calendar
import io
import json
import os
import re
import select

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from django_prodserver.runner.log_format import JsonFraming
from django_prodserver.runner.printer import RUNNER, Printer


def clock() -> float:
    return calendar.timegm((2024, 1, 2, 3, 4, 5, 0, 0, 0)) + 0.0678


def printed(log_format: str, colour: bool = False) -> list[bytes]:
    out = io.BytesIO()
    printer = Printer(out, ["web", "worker"], colour=colour, clock=clock, log_format=log_format)
    printer.lines("web", [b"hello", b'caf\xc3\xa9 \xff "quoted" \\ \t tab\r'])
    printer.message("web started (pid 12), SECRET_TOKEN=abc")
    return out.getvalue().split(b"\n")


def test_json_is_one_object_a_line_with_time_process_stream_and_line():
    *lines, rest = printed("json", colour=True)
    assert rest == b""
    objects = [json.loads(line) for line in lines]
    assert objects == [
        {
            "time": "2024-01-02T03:04:05.067Z",
            "process": "web",
            "stream": "output",
            "line": "hello",
        },
        {
            "time": "2024-01-02T03:04:05.067Z",
            "process": "web",
            "stream": "output",
            "line": 'café \ufffd "quoted" \\ \t tab',
        },
        {
            "time": "2024-01-02T03:04:05.067Z",
            "process": RUNNER,
            "stream": "runner",
            "line": "web started (pid 12), SECRET_TOKEN=********",
        },
    ]
    assert all(line.isascii() for line in lines)  # no colour, nothing but JSON


def test_raw_is_the_lines_alone():
    assert printed("raw", colour=True) == [
        b"hello",
        b'caf\xc3\xa9 \xff "quoted" \\ \t tab',
        b"web started (pid 12), SECRET_TOKEN=********",
        b"",
    ]


def test_plain_is_the_default_and_unchanged():
    default, plain = io.BytesIO(), io.BytesIO()
    Printer(default, ["web"], colour=True, clock=clock).lines("web", [b"x"])
    Printer(plain, ["web"], colour=True, clock=clock, log_format="plain").lines("web", [b"x"])
    assert default.getvalue() == plain.getvalue()
    assert re.fullmatch(rb"\d\d:\d\d:\d\d \x1b\[36mweb +\| \x1b\[0mx\n", plain.getvalue())


@pytest.mark.parametrize("log_format", ["plain", "json", "raw"])
def test_every_format_writes_whole_lines_at_most_pipe_buf_at_a_time(log_format: str):
    """A line longer than PIPE_BUF goes in pieces of PIPE_BUF with nothing between them."""

    class Recording(io.BytesIO):
        def __init__(self) -> None:
            super().__init__()
            self.writes: list[int] = []

        def write(self, data: bytes) -> int:  # type: ignore[override]
            self.writes.append(len(data))
            return super().write(data)

    out = Recording()
    printer = Printer(out, ["web"], colour=False, log_format=log_format)
    long_line = b"y" * (3 * select.PIPE_BUF + 17)
    printer.lines("web", [b"short", long_line, b"after"])
    assert max(out.writes) <= select.PIPE_BUF
    lines = out.getvalue().split(b"\n")
    assert lines[-1] == b""
    assert len(lines) == 4
    if log_format == "json":
        assert [json.loads(line)["line"] for line in lines[:3]] == [
            "short",
            long_line.decode(),
            "after",
        ]


def test_json_lines_longer_than_pipe_buf_arrive_whole_through_a_pipe_that_fills_up():
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    received = []
    with os.fdopen(write_end, "wb", buffering=0) as stream:
        printer = Printer(stream, ["one"], colour=False, log_format="json")
        for count in range(60):
            printer.lines("one", [b"x" * (count * 137 % 9000 + 1)] * 20)
            received.append(os.read(read_end, 65536))  # a slow reader: the pipe fills up
        while not printer.flush():
            received.append(os.read(read_end, 65536))
    with os.fdopen(read_end, "rb") as pipe:
        received.append(pipe.read())
    *lines, rest = b"".join(received).split(b"\n")
    assert rest == b""
    assert len(lines) > 100
    objects = [json.loads(line) for line in lines]
    assert all(set(item["line"]) == {"x"} for item in objects if item["process"] == "one")
    # More than the backlog was printed: the lines dropped are said, in JSON too.
    assert {item["stream"] for item in objects} == {"output", "runner"}


@settings(max_examples=500, deadline=None, database=None)
@given(
    st.lists(
        st.binary(max_size=40).map(lambda raw: raw.replace(b"\n", b"")), min_size=1, max_size=5
    )
)
def test_any_bytes_become_one_json_object_each_holding_the_line(lines: list[bytes]):
    framed = JsonFraming(RUNNER).batch("web", lines, 0.0)
    assert framed.endswith(b"}\n")
    objects = framed.split(b"\n")[:-1]
    assert len(objects) == len(lines)
    for whole, line in zip(objects, lines, strict=True):
        assert json.loads(whole)["line"] == line.rstrip(b"\r").decode("utf-8", "replace")
