import io
import os
import re
import time

from django_prodserver.runner.printer import RUNNER, LineSplitter, Printer, wants_colour


def test_lines_are_cut_at_newlines_and_the_rest_kept():
    splitter = LineSplitter()
    assert splitter.feed(b"one\ntw") == [b"one"]
    assert splitter.feed(b"o\n\nthree") == [b"two", b""]
    assert splitter.finish() == [b"three"]
    assert splitter.finish() == []


def test_a_line_longer_than_the_limit_is_printed_in_whole_pieces():
    splitter = LineSplitter(longest=4)
    assert splitter.feed(b"abcdefghij") == [b"abcd", b"efgh"]
    assert splitter.feed(b"k\nl") == [b"ijk"]
    assert splitter.finish() == [b"l"]


def clock() -> float:
    return time.mktime((2024, 1, 2, 3, 4, 5, 0, 0, -1))


def test_prefix_is_time_and_the_name_padded_to_the_longest():
    out = io.BytesIO()
    printer = Printer(out, ["web", "worker-long-name"], colour=False, clock=clock)
    printer.lines("web", [b"hello", b"caf\xc3\xa9 \xff bytes as written\r"])
    printer.message("web started (pid 12), SECRET_TOKEN=abc")
    assert out.getvalue().decode("utf-8", "replace").splitlines() == [
        "03:04:05 web              | hello",
        "03:04:05 web              | café \ufffd bytes as written",
        f"03:04:05 {RUNNER}       | web started (pid 12), SECRET_TOKEN=********",
    ]


def test_names_are_coloured_when_asked():
    out = io.BytesIO()
    Printer(out, ["web", "worker"], colour=True, clock=clock).lines("worker", [b"x"])
    assert out.getvalue() == b"03:04:05 \x1b[33mworker     | \x1b[0mx\n"


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)

    class Terminal(io.BytesIO):
        def isatty(self) -> bool:
            return True

    assert wants_colour({}, Terminal())
    assert not wants_colour({}, io.BytesIO())
    assert not wants_colour({"no_color": True}, Terminal())
    assert wants_colour({"force_color": True}, io.BytesIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_colour({}, Terminal())


def test_a_pipe_that_fills_up_holds_whole_lines_only():
    # A non-blocking write larger than the pipe's room takes part of it: the printer must
    # never leave half a line in the pipe, whatever the reader does afterwards.
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with os.fdopen(write_end, "wb", buffering=0) as stream, os.fdopen(read_end, "rb") as pipe:
        printer = Printer(stream, ["one"], colour=False)
        for count in range(200):
            printer.lines("one", [b"x" * (count % 97 + 60)] * 100)
        assert printer.pending
        stream.close()
        written = pipe.read()
    whole = re.compile(rb"\d\d:\d\d:\d\d one +\| x+")
    *lines, rest = written.split(b"\n")
    assert rest == b""
    assert all(whole.fullmatch(line) for line in lines)


def test_a_carriage_return_goes_only_where_it_ends_a_line():
    for log_format in ("plain", "raw"):
        out = io.BytesIO()
        printer = Printer(out, ["web"], colour=False, clock=clock, log_format=log_format)
        printer.lines("web", [b"crlf\r", b"a\rb", b"plain"])
        assert [line.split(b"| ")[-1] for line in out.getvalue().split(b"\n")] == [
            b"crlf",
            b"a\rb",
            b"plain",
            b"",
        ], log_format


def test_an_empty_batch_prints_nothing():
    out = io.BytesIO()
    Printer(out, ["web"], colour=False, clock=clock).lines("web", [])
    assert out.getvalue() == b""
