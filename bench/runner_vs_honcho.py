"""Compare the runner (`prodserver web admin`, A) with honcho running the same processes (B).

Both supervise the same children: each is `python manage.py prodserver NAME`, the runner
starting them itself, honcho from a Procfile (`NAME: python manage.py prodserver NAME`).
Only the supervisor differs. They run alternately (A B A B ...) over several rounds; each
round measures:

1. the supervisor's own memory: RSS and PSS of its process alone (not its children), once
   both web servers answer (`web`: gunicorn, 2 workers; `admin`: waitress);
2. a crash: `kill -9` of web's main process, then the time until web answers HTTP 200
   again (polled every 20 ms, 15 s at most), and what became of the other server;
3. output: two children each print `--lines` numbered lines as fast as they can, then wait;
   lines per second from the first child's first line to the moment the supervisor's output
   holds both children's last line, and how many lines arrived whole and in order.

The report is printed as markdown and written to bench/results/runner-vs-honcho.md.

Run from the repository root (Linux only: memory is read from /proc):

    .venv/bin/python bench/runner_vs_honcho.py [--rounds 3] [--lines 200000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from harness import EXAMPLE, HOST, RESULTS
from harness.commands import supervised_project
from harness.http import START_TIMEOUT, get_status, wait_for_200
from harness.processes import (
    cmdline,
    descendants,
    find_free_port,
    kill_tree,
    pss_kib,
    rss_kib,
    start,
)
from harness.rounds import alternating
from harness.tables import cpu_model, markdown_table, publish

BACK_TIMEOUT = 15.0
LINES_TIMEOUT = 300.0
POLL = 0.02

BACKENDS = """
import os, signal, sys, time
from django_prodserver.backends.base import Backend, Plan

class Lines(Backend):
    kind = "worker"
    def plan(self, overrides=(), env=None):
        return Plan(self.name, ("lines",), dict(env or {}))
    def run(self, plan):
        count = int(self.spec.args["count"])
        out = sys.stdout
        out.write(f"START {time.time():.6f}\\n")
        for number in range(count):
            out.write(f"{self.name} {number:07d} " + "x" * 50 + "\\n")
        out.write(f"END {self.name}\\n")
        out.flush()
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(1)
"""


@dataclass
class Round:
    variant: str
    rss_kib: int
    pss_kib: int
    pss_total_kib: int  # with the supervisor's own helper processes
    back_after: float | None  # None: no new web answered
    orphans_until: float | None  # the killed web's orphaned workers answered until then
    other_after_crash: str
    supervisor_after_crash: str
    lines_per_second: float
    lines_whole: int
    lines_expected: int


@contextmanager
def project(lines: int) -> Iterator[tuple[Path, dict[str, str], int, int]]:
    web, admin = find_free_port(), find_free_port()
    with tempfile.TemporaryDirectory(prefix="runner-bench-") as folder:
        directory = Path(folder)
        processes = {
            "web": {
                "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
                "ARGS": {"bind": f"{HOST}:{web}", "workers": 2},
            },
            "admin": {
                "BACKEND": "django_prodserver.backends.waitress.WaitressServer",
                "ARGS": {"listen": f"{HOST}:{admin}"},
            },
            "lines1": {"BACKEND": "bench_backends.Lines", "ARGS": {"count": lines}},
            "lines2": {"BACKEND": "bench_backends.Lines", "ARGS": {"count": lines}},
        }
        settings = (
            f"from exampleproject.settings import *  # noqa\nPRODUCTION_PROCESSES = {processes!r}\n"
        )
        (directory / "bench_backends.py").write_text(BACKENDS)
        env = supervised_project(directory, settings, list(processes), {})
        yield directory, env, web, admin


def start_supervisor(
    variant: str, names: list[str], directory: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    if variant == "A":
        argv = [sys.executable, "manage.py", "prodserver", *names]
    else:
        honcho = shutil.which("honcho", path=str(Path(sys.executable).parent)) or "honcho"
        argv = [honcho, "-f", str(directory / "Procfile"), "-d", str(EXAMPLE), "start", *names]
    return start(argv, env, log)


def stop(supervisor: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL to anything of the tree still there (honcho's children have
    sessions of their own)."""
    tree = descendants(supervisor.pid)
    with suppress(ProcessLookupError):
        supervisor.send_signal(signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        supervisor.wait(60)
    kill_tree(supervisor, tree)


def wait_for_replacement(
    supervisor: int, old: set[int], port: int, killed_at: float
) -> tuple[float | None, float | None]:
    """Seconds until a new web master answers (None: never within BACK_TIMEOUT), and the
    last time, after the kill, that the port answered without a new master (the killed
    master's orphaned workers). `old` holds the killed master and its workers."""
    orphans = None
    while (now := time.monotonic()) - killed_at < BACK_TIMEOUT:
        answered = get_status(port, timeout=1) == 200
        try:
            replaced = main_process_of(supervisor, "web") not in old
        except StopIteration:
            replaced = False
        if answered and replaced:
            return now - killed_at, orphans
        if answered:
            orphans = now - killed_at
        time.sleep(POLL)
    return None, orphans


def own_helpers(supervisor: int) -> list[int]:
    """The supervisor's own helper processes: honcho forks one Python process per child, the
    runner starts one watchdog."""
    return [
        info.pid
        for info in descendants(supervisor)
        if any(name in command_line(info.pid) for name in ("honcho", "prodserver-watchdog"))
        and not command_line(info.pid).startswith("/bin/sh")
    ]


def command_line(pid: int) -> str:
    return " ".join(cmdline(pid))


def main_process_of(supervisor: int, name: str) -> int:
    """The Python process of `prodserver NAME` whose parent is not one too (gunicorn's master).

    honcho starts each command through `/bin/sh -c`: the shell is not the server.
    """
    wanted = f"manage.py prodserver {name}"
    found = [
        info
        for info in descendants(supervisor)
        if wanted in command_line(info.pid) and not command_line(info.pid).startswith("/bin/sh")
    ]
    pids = {info.pid for info in found}
    return next(info.pid for info in found if info.ppid not in pids)


def serving_round(variant: str, directory: Path, env: dict[str, str], web: int, admin: int):
    log = directory / f"serving-{variant}.log"
    supervisor = start_supervisor(variant, ["web", "admin"], directory, env, log)
    try:
        for port in (web, admin):
            if wait_for_200(port, START_TIMEOUT, request_timeout=1, poll=POLL) is None:
                raise RuntimeError(f"{variant}: port {port} not serving:\n{log.read_text()}")
        time.sleep(1)
        rss, pss = rss_kib(supervisor.pid), pss_kib(supervisor.pid)
        helpers = [supervisor.pid, *own_helpers(supervisor.pid)]
        pss_total = sum(pss_kib(pid) for pid in helpers)
        master = main_process_of(supervisor.pid, "web")
        old = {master, *(info.pid for info in descendants(master))}
        killed_at = time.monotonic()
        os.kill(master, signal.SIGKILL)
        back, orphans = wait_for_replacement(supervisor.pid, old, web, killed_at)
        other = "answers" if get_status(admin, timeout=2) == 200 else "does not answer"
        if supervisor.poll() is None:
            after = "still running"
        else:
            after = f"exited with status {supervisor.returncode}"
        return rss, pss, pss_total, back, orphans, other, after
    finally:
        stop(supervisor)


def lines_round(variant: str, directory: Path, env: dict[str, str], count: int):
    log = directory / f"lines-{variant}.log"
    supervisor = start_supervisor(variant, ["lines1", "lines2"], directory, env, log)
    try:
        ends: set[str] = set()
        offset, pending = 0, b""
        deadline = time.monotonic() + LINES_TIMEOUT
        while len(ends) < 2 and time.monotonic() < deadline:
            with log.open("rb") as output:
                output.seek(offset)
                data = output.read()
            offset += len(data)
            *complete, pending = (pending + data).split(b"\n")
            ends.update(line.rsplit(b"END ", 1)[1].decode() for line in complete if b"END " in line)
            if len(ends) < 2:
                time.sleep(POLL)
        finished = time.time()
    finally:
        stop(supervisor)
    text = log.read_text(errors="replace")
    starts = [float(value) for value in re.findall(r"START (\d+\.\d+)$", text, re.M)]
    # honcho numbers each process it starts: `lines1.1`.
    line = re.compile(r"(\w+)(?:\.\d+)? +\| (lines[12]) (\d{7}) x{50}$")
    expected = {"lines1": 0, "lines2": 0}
    whole = 0
    for row in text.splitlines():
        match = line.search(row)
        if match and match[1] == match[2] and int(match[3]) == expected[match[2]]:
            expected[match[2]] += 1
            whole += 1
    rate = 2 * count / (finished - min(starts)) if len(ends) == 2 and starts else 0.0
    return rate, whole


def run(rounds: int, count: int) -> list[Round]:
    results = []
    with project(count) as (directory, env, web, admin):
        for number, variant in alternating(rounds):
            serving = serving_round(variant, directory, env, web, admin)
            rate, whole = lines_round(variant, directory, env, count)
            result = Round(variant, *serving, rate, whole, 2 * count)
            results.append(result)
            print(f"round {number} {variant}: {result}", file=sys.stderr)
    return results


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(results: list[Round], rounds: int, count: int) -> str:
    a = [r for r in results if r.variant == "A"]
    b = [r for r in results if r.variant == "B"]

    def ratio(x: float, y: float) -> str:
        return f"{x / y:.2f}x" if y else "n/a"

    def back(rs: list[Round]) -> str:
        times = [r.back_after for r in rs if r.back_after is not None]
        never = len(rs) - len(times)
        shown = f"{median(times):.2f} s" if times else "never"
        return shown + (f" ({never} of {len(rs)} never)" if times and never else "")

    rss_a, rss_b = median([r.rss_kib for r in a]), median([r.rss_kib for r in b])
    all_a, all_b = median([r.pss_total_kib for r in a]), median([r.pss_total_kib for r in b])
    pss_a, pss_b = median([r.pss_kib for r in a]), median([r.pss_kib for r in b])
    lps_a, lps_b = median([r.lines_per_second for r in a]), median([r.lines_per_second for r in b])
    lines = [
        "# The runner against honcho",
        "",
        f"Run {dt.datetime.now():%Y-%m-%d %H:%M} with `bench/runner_vs_honcho.py --rounds {rounds}"
        f" --lines {count}`, on {len(os.sched_getaffinity(0))} cores ({cpu_model()}), "
        f"Python {sys.version.split()[0]}, Django {metadata.version('django')}, "
        f"gunicorn {metadata.version('gunicorn')}, honcho {metadata.version('honcho')}.",
        "",
        "A is `manage.py prodserver web admin` (and `lines1 lines2`); B is `honcho start` with a",
        "Procfile of the same `python manage.py prodserver NAME` lines. Medians over the rounds.",
        "",
        *markdown_table(
            "metric | A (runner) | B (honcho) | A/B",
            "llll",
            [
                f"supervisor RSS | {mib(rss_a)} | {mib(rss_b)} | {ratio(rss_a, rss_b)}",
                f"supervisor PSS | {mib(pss_a)} | {mib(pss_b)} | {ratio(pss_a, pss_b)}",
                f"PSS with its helper processes | {mib(all_a)} | {mib(all_b)} "
                f"| {ratio(all_a, all_b)}",
                f"`kill -9` of web's master to a new web answering | {back(a)} | {back(b)} |",
                f"lines per second, two children | {lps_a:,.0f} | {lps_b:,.0f} "
                f"| {ratio(lps_a, lps_b)}",
                f"lines arrived whole, in order (of {2 * count:,}; the least of the rounds) | "
                f"{min(r.lines_whole for r in a):,} | {min(r.lines_whole for r in b):,} |",
            ],
        ),
        "",
        f"After the crash ({BACK_TIMEOUT:g} s later, every round):",
        "",
        *markdown_table(
            "variant | other server | supervisor",
            "lll",
            sorted(
                {
                    f"{r.variant} | {r.other_after_crash} | {r.supervisor_after_crash}"
                    for r in results
                }
            ),
        ),
        "",
        "## Rounds",
        "",
        *markdown_table(
            "round | variant | RSS KiB | PSS KiB | PSS with helpers KiB | new web after "
            "| orphans answered until | lines/s | whole lines",
            "lllllllll",
            (
                f"{index // 2 + 1} | {r.variant} | {r.rss_kib} | {r.pss_kib} | {r.pss_total_kib} "
                f"| {f'{r.back_after:.2f} s' if r.back_after is not None else 'never'} "
                f"| {f'{r.orphans_until:.2f} s' if r.orphans_until is not None else '-'} "
                f"| {r.lines_per_second:,.0f} | {r.lines_whole:,}"
                for index, r in enumerate(results)
            ),
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lines", type=int, default=200_000, help="lines per child")
    options = parser.parse_args()
    results = run(options.rounds, options.lines)
    publish(report(results, options.rounds, options.lines), RESULTS / "runner-vs-honcho.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
