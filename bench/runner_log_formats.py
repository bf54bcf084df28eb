"""The runner's line rate with each `--log-format`, against today's runner (plain).

Four variants run the same two children, each printing `--lines` numbered lines of 63
bytes as fast as it can (in blocks of 1,000 lines, so that the runner, not the children,
sets the pace), then waiting:

- `before`: the runner as it was before --log-format (the package at `--base`, a commit,
  exported with `git archive`), plain output;
- `plain`, `json`, `raw`: the working copy's runner with that `--log-format`.

They run in turn over several rounds (the order rotates each round). Each run measures
lines per second, from the first child's first line to the moment the runner's output
(a file) holds both children's last line, and checks that every line arrived whole, in
order: in `json`, every output line must parse as an object whose `line` is the child's.
The report gives each variant's median and the median of its ratio to `before` taken
round by round (with min and max), next to the target: plain >= 0.9x of before.

A second table measures the printer alone, in this process (no children, no scheduling
noise): batches of 1,000 such lines framed and written to /dev/null (real writes of at most
PIPE_BUF bytes each), the printer of `--base` against the working copy's in each format,
alternating, `--printer-repeats` times.

Run from the repository root (Linux):

    .venv/bin/python bench/runner_log_formats.py [--rounds 5] [--lines 300000] [--base main]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from harness import REPO, RESULTS
from harness.commands import supervised_project
from harness.processes import descendants, kill_tree, start
from harness.tables import markdown_table, publish, report_head

VARIANTS = ("before", "plain", "json", "raw")
LINES_TIMEOUT = 300.0
POLL = 0.02
BLOCK = 1000

BACKENDS = """
import signal, sys, time
from django_prodserver.backends.base import Backend, Plan

class Lines(Backend):
    kind = "worker"
    def plan(self, overrides=(), env=None):
        return Plan(self.name, ("lines",), dict(env or {}))
    def run(self, plan):
        count, block = int(self.spec.args["count"]), int(self.spec.args["block"])
        out = sys.stdout.buffer
        out.write(f"START {time.time():.6f}\\n".encode())
        for first in range(0, count, block):
            out.write(b"".join(
                f"{self.name} {number:07d} ".encode() + b"x" * 50 + b"\\n"
                for number in range(first, min(first + block, count))
            ))
        out.write(f"END {self.name}\\n".encode())
        out.flush()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(1)
"""
PLAIN_LINE = re.compile(rb"(\w+) +\| (lines[12]) (\d{7}) x{50}$")
RAW_LINE = re.compile(rb"(lines[12]) (\d{7}) x{50}$")


@dataclass
class Run:
    variant: str
    round: int
    lines_per_second: float
    lines_per_cpu_second: float  # of the runner's own CPU time: robust to a busy machine
    lines_whole: int


@contextmanager
def project(lines: int, base: str) -> Iterator[tuple[Path, dict[str, str], str]]:
    """The project's folder, its environment, and the folder of the package at `base`."""
    with tempfile.TemporaryDirectory(prefix="log-formats-bench-") as folder:
        directory = Path(folder)
        processes = {
            name: {"BACKEND": "bench_backends.Lines", "ARGS": {"count": lines, "block": BLOCK}}
            for name in ("lines1", "lines2")
        }
        settings = (
            f"from exampleproject.settings import *  # noqa\nPRODUCTION_PROCESSES = {processes!r}\n"
        )
        (directory / "bench_backends.py").write_text(BACKENDS)
        env = supervised_project(directory, settings, list(processes), {})
        before = directory / "before"
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", base, "src"], check=True, capture_output=True
        ).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(before, filter="data")
        yield directory, env, str(before / "src")


def environment_of(variant: str, env: dict[str, str], before: str) -> dict[str, str]:
    if variant != "before":
        return env
    # The package at `base` first on the path, for the runner and its children alike.
    paths = env["PYTHONPATH"].split(":")
    return {**env, "PYTHONPATH": ":".join([*paths[:-1], before])}


def one_run(variant: str, directory: Path, env: dict[str, str], before: str, count: int):
    log = directory / f"lines-{variant}.log"
    argv = [sys.executable, "manage.py", "prodserver", "lines1", "lines2"]
    if variant != "before":
        argv += ["--log-format", variant]
    runner = start(argv, environment_of(variant, env, before), log)
    cpu_at_start = cpu_at_end = None
    try:
        ends: set[bytes] = set()
        offset, pending = 0, b""
        deadline = time.monotonic() + LINES_TIMEOUT
        while len(ends) < 2 and time.monotonic() < deadline:
            with log.open("rb") as output:
                output.seek(offset)
                data = output.read()
            offset += len(data)
            if cpu_at_start is None and b"started (pid" in data:
                cpu_at_start = cpu_seconds(runner.pid)  # the supervisor, before any line
            *complete, pending = (pending + data).split(b"\n")
            ends.update(line.rsplit(b"END ", 1)[1][:6] for line in complete if b"END " in line)
            if len(ends) < 2:
                time.sleep(POLL)
        finished = time.time()
        cpu_at_end = cpu_seconds(runner.pid)
    finally:
        stop(runner)
    data = log.read_bytes()
    starts = [float(value) for value in re.findall(rb"START (\d+\.\d+)", data)]
    rate = 2 * count / (finished - min(starts)) if len(ends) == 2 and starts else 0.0
    cpu = (cpu_at_end or 0.0) - (cpu_at_start or 0.0)
    per_cpu_second = 2 * count / cpu if cpu > 0 and len(ends) == 2 else 0.0
    return rate, per_cpu_second, whole_lines(variant, data)


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) the process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def whole_lines(variant: str, data: bytes) -> int:
    """The children's numbered lines that arrived whole, in order, each as its format says."""
    expected = {b"lines1": 0, b"lines2": 0}
    whole = 0
    for row in data.split(b"\n"):
        if variant == "json":
            try:
                item = json.loads(row)
            except ValueError:
                continue
            match = RAW_LINE.match(item["line"].encode())
            name = item["process"].encode()
        elif variant == "raw":
            match = RAW_LINE.match(row)
            name = match[1] if match else b""
        else:
            found = PLAIN_LINE.search(row)
            match = RAW_LINE.match(row[found.start(2) :]) if found else None
            name = found[1] if found else b""
        if match and match[1] == name and int(match[2]) == expected[name]:
            expected[name] += 1
            whole += 1
    return whole


def stop(runner: subprocess.Popen[bytes]) -> None:
    tree = descendants(runner.pid)
    with suppress(ProcessLookupError):
        runner.send_signal(signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        runner.wait(60)
    kill_tree(runner, tree)


def run(
    rounds: int, count: int, base: str, repeats: int
) -> tuple[list[Run], dict[str, list[float]]]:
    results = []
    with project(count, base) as (directory, env, before):
        alone = printer_alone(before, repeats)
        for number in range(1, rounds + 1):
            shift = (number - 1) % len(VARIANTS)
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                rate, per_cpu, whole = one_run(variant, directory, env, before, count)
                results.append(Run(variant, number, rate, per_cpu, whole))
                print(
                    f"round {number} {variant}: {rate:,.0f} lines/s, {per_cpu:,.0f} lines "
                    f"per CPU second, {whole}",
                    file=sys.stderr,
                )
                time.sleep(1.0)
    return results, alone


def printer_alone(before: str, repeats: int) -> dict[str, list[float]]:
    """Lines per second of the printer alone, per variant, `repeats` times alternating."""
    from django_prodserver.runner.printer import Printer

    spec = importlib.util.spec_from_file_location(
        "before_printer", Path(before) / "django_prodserver" / "runner" / "printer.py"
    )
    assert spec is not None
    assert spec.loader is not None
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    batch = [f"lines1 {number:07d} ".encode() + b"x" * 50 for number in range(BLOCK)]
    batches = 200
    rates: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    with open(os.devnull, "wb", buffering=0) as sink:
        for _ in range(repeats):
            for variant in VARIANTS:
                if variant == "before":
                    printer = old.Printer(sink, ["lines1", "lines2"], colour=False)
                else:
                    printer = Printer(sink, ["lines1", "lines2"], colour=False, log_format=variant)
                begun = time.perf_counter()
                for _ in range(batches):
                    printer.lines("lines1", batch)
                rates[variant].append(batches * BLOCK / (time.perf_counter() - begun))
    return rates


def printer_rows(rates: dict[str, list[float]]) -> list[str]:
    rows = []
    for variant in VARIANTS:
        ratios = [a / b for a, b in zip(rates[variant], rates["before"], strict=True)]
        rows.append(
            f"{variant} | {statistics.median(rates[variant]):,.0f} | "
            f"{statistics.median(ratios):.2f}x | {min(ratios):.2f}x - {max(ratios):.2f}x"
        )
    return rows


def rate_rows(results: list[Run], rounds: int, base: str, key: str) -> list[str]:
    """Per variant: the median of `key`, and its ratio to `before` round by round."""
    by_round = {(r.round, r.variant): getattr(r, key) for r in results}
    rows = []
    for variant in VARIANTS:
        rate = statistics.median(getattr(r, key) for r in results if r.variant == variant)
        whole = min(r.lines_whole for r in results if r.variant == variant)
        if variant == "before":
            rows.append(f"before (plain, `{base}`) | {rate:,.0f} | 1.00x | | {whole:,}")
            continue
        spread = [
            by_round[(n, variant)] / by_round[(n, "before")]
            for n in range(1, rounds + 1)
            if by_round[(n, "before")]
        ]
        target = " (target >= 0.9x)" if variant == "plain" else ""
        rows.append(
            f"`--log-format {variant}` | {rate:,.0f} | {statistics.median(spread):.2f}x{target} "
            f"| {min(spread):.2f}x - {max(spread):.2f}x | {whole:,}"
        )
    return rows


def report(
    results: list[Run], rounds: int, count: int, base: str, alone: dict[str, list[float]]
) -> str:
    head = (
        "variant | {what} | ratio to before (median) | ratio min - max | "
        f"lines whole, in order (of {2 * count:,}; least of the rounds)"
    )
    lines = [
        *report_head(
            "The runner's line rate with each --log-format",
            f"`bench/runner_log_formats.py --rounds {rounds} --lines {count} --base {base}`: "
            "two children print the lines as fast as they can into the runner, whose output "
            "goes to a file. Medians over the rounds; the ratio to `before` is taken round "
            "by round.",
            ["django"],
        ),
        "",
        "Lines per second of the runner's own CPU time (user and system, from /proc, between "
        "its first child's start and both children's last line): what the runner spends on a "
        "line, whatever else the machine runs.",
        "",
        *markdown_table(
            head.format(what="lines per CPU second"),
            "lllll",
            rate_rows(results, rounds, base, "lines_per_cpu_second"),
        ),
        "",
        "Lines per second of wall-clock time (first line written to both last lines in the "
        "output): on a shared machine, as noisy as its load.",
        "",
        *markdown_table(
            head.format(what="lines per second"),
            "lllll",
            rate_rows(results, rounds, base, "lines_per_second"),
        ),
        "",
        f"The printer alone ({len(alone['before'])} alternating repeats of 200,000 lines into "
        "/dev/null, in this process):",
        "",
        *markdown_table(
            "variant | lines per second | ratio to before (median) | ratio min - max",
            "llll",
            printer_rows(alone),
        ),
        "",
        "## Rounds",
        "",
        *markdown_table(
            "round | variant | lines/s | lines per CPU second | whole lines",
            "lllll",
            [
                f"{r.round} | {r.variant} | {r.lines_per_second:,.0f} | "
                f"{r.lines_per_cpu_second:,.0f} | {r.lines_whole:,}"
                for r in results
            ],
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument(
        "--base", default="main", help="the commit of the runner before --log-format"
    )
    parser.add_argument("--printer-repeats", type=int, default=21)
    args = parser.parse_args()
    results, alone = run(args.rounds, args.lines, args.base, args.printer_repeats)
    publish(
        report(results, args.rounds, args.lines, args.base, alone),
        RESULTS / "runner-log-formats.md",
    )


if __name__ == "__main__":
    main()
