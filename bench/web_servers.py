"""Every web backend: `manage.py prodserver web` (A) against its `--dry-run` line (B).

For each web server django-prodserver starts (gunicorn, gunicorn with uvicorn's worker,
uvicorn, granian, waitress, daphne, hypercorn; ASGI and WSGI where the server has both),
with one fixed configuration per server (2 worker processes where the server has
workers, one process otherwise), A and B run alternately (A B A B ...) over `--rounds`:

- A: `python manage.py prodserver web --ADDRESS` (a small settings module holds the
  process: BACKEND and ARGS);
- B: the line `manage.py prodserver web --ADDRESS --dry-run` prints, with the server's
  command replaced by `python -m MODULE`, in the same environment.

Each run measures, on 127.0.0.1 and a fresh free port:

1. requests/s and p99 latency of `wrk -t2 -c32 -d<duration>s --latency` on the sync
   view `/`, then on the async view `/async/`, each after a discarded 2 s warm-up;
2. the median time of 50 sequential GETs from one keep-alive client (a fixed delay per
   request, such as a 40 ms delayed ACK, shows here);
3. PSS of the server process and all its descendants, right after the loads;
4. the time from SIGTERM to the server process's exit, and what was left of it;
5. the CPU that other processes used during the loads: the machine may be shared, so a
   run disturbed by them is run again (twice at most) and the least disturbed one kept.

The report gives, per backend, the medians of A and B and the median of the ratios A/B
taken round by round, then one table across backends. It is printed as markdown and
written to bench/results/web-servers.md, with a bar chart of A's requests/s in
bench/results/web-servers.svg (`web-servers-NAME.*` with `--only NAME`).

Run from the repository root (Linux only; needs wrk: `apt-get install wrk`):

    .venv/bin/python bench/web_servers.py [--rounds 3] [--duration 10] [--only NAME]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from harness import EXAMPLE, HOST, RESULTS, BenchError
from harness.commands import dry_run_line, server_env, shown
from harness.http import (
    WARMUP_SECONDS,
    WRK_CONNECTIONS,
    WRK_THREADS,
    WrkResult,
    require_wrk,
    run_wrk,
    serving,
    wrk_version,
)
from harness.processes import (
    LEFT_OVER_GRACE,
    descendants,
    find_free_port,
    read_proc,
    require_smaps_rollup,
    terminate,
    tree_pss_kib,
)
from harness.rounds import (
    PAUSE_BETWEEN_RUNS,
    VARIANTS,
    Metric,
    Summary,
    add_only,
    alternating,
    summarize,
)
from harness.tables import (
    ab_table,
    cpu_model,
    load_line,
    markdown_table,
    publish,
    ratio,
    report_head,
)

SETTINGS_MODULE = "bench_web_settings"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
OTHER_CPU_LIMIT = 0.25  # cores: a run with more CPU used by others than this is run again
RETRIES = 2  # at most this many runs again, per run; the least disturbed one is kept
RETRY_PAUSE = 20.0  # seconds to wait before running a disturbed run again
QUIET_WAIT = 120.0  # before each run, wait at most this long for others to go quiet
QUIET_SAMPLE = 2.0  # seconds over which others' CPU is sampled while waiting
VIEWS = (("sync", "/"), ("async", "/async/"))
SEQUENTIAL_REQUESTS = 50  # on one keep-alive connection, one after the other
SLOW_STOP = 2.0  # a stop slower than this is pointed out in the report
# Variables some servers read options from: neither A nor B may see them.
FOREIGN_ENV_PREFIXES = ("GRANIAN_", "UVICORN_", "GUNICORN_", "HYPERCORN_")
FOREIGN_ENV = ("PORT", "WEB_CONCURRENCY", "GUNICORN_CMD_ARGS")
# Distributions whose version goes into the report.
VERSIONED = (
    "django",
    "gunicorn",
    "uvicorn",
    "uvicorn-worker",
    "granian",
    "waitress",
    "daphne",
    "twisted",
    "hypercorn",
    "h11",
    "httptools",
    "uvloop",
)


@dataclass(frozen=True)
class Server:
    """One backend with its fixed configuration."""

    name: str  # `--only NAME`
    backend: str  # BACKEND: the dotted path of the backend class
    interface: str  # the application it serves: WSGI or ASGI
    args: dict[str, str | bool]  # ARGS in the settings
    address: Callable[[int], list[str]]  # the typed options that give the address
    module: str  # B runs `python -m MODULE`; A fails without it too
    command: str  # the first word of the `--dry-run` line
    processes: str  # what the configuration runs, for the report
    label: tuple[str, ...]  # lines under its bars in the chart
    needs: tuple[str, ...] = ()  # other modules the configuration imports

    @property
    def backend_module(self) -> str:
        return self.backend.rpartition(".")[0]

    @property
    def backend_class(self) -> str:
        return self.backend.rpartition(".")[2]


def bind(port: int) -> list[str]:
    return [f"--bind={HOST}:{port}"]


def host_port(port: int) -> list[str]:
    return [f"--host={HOST}", f"--port={port}"]


def daphne_address(port: int) -> list[str]:
    return [f"--bind={HOST}", f"--port={port}"]


def listen(port: int) -> list[str]:
    return [f"--listen={HOST}:{port}"]


BACKENDS = "django_prodserver.backends"
SERVERS = (
    Server(
        "gunicorn",
        f"{BACKENDS}.gunicorn.GunicornServer",
        "WSGI",
        {"workers": "2"},
        bind,
        "gunicorn",
        "gunicorn",
        "master + 2 sync workers",
        ("gunicorn", "WSGI"),
    ),
    Server(
        "gunicorn-uvicorn-worker",
        f"{BACKENDS}.gunicorn.GunicornServer",
        "ASGI",
        {"workers": "2", "worker-class": "uvicorn_worker.UvicornWorker"},
        bind,
        "gunicorn",
        "gunicorn",
        "master + 2 UvicornWorker workers",
        ("gunicorn +", "UvicornWorker", "ASGI"),
        needs=("uvicorn_worker",),
    ),
    Server(
        "uvicorn",
        f"{BACKENDS}.uvicorn.UvicornServer",
        "ASGI",
        {"workers": "2", "access-log": False},
        host_port,
        "uvicorn",
        "uvicorn",
        "supervisor + 2 workers",
        ("uvicorn", "ASGI"),
    ),
    # asyncio's loop, as uvicorn runs without uvloop (bare `uvicorn`, PyPy, Windows): there
    # uvicorn's own `--workers` leaves TCP_NODELAY unset, and prodserver's sets it.
    Server(
        "uvicorn-asyncio",
        f"{BACKENDS}.uvicorn.UvicornServer",
        "ASGI",
        {"workers": "2", "access-log": False, "loop": "asyncio"},
        host_port,
        "uvicorn",
        "uvicorn",
        "supervisor + 2 workers, asyncio loop",
        ("uvicorn", "asyncio", "ASGI"),
    ),
    Server(
        "uvicorn-wsgi",
        f"{BACKENDS}.uvicorn.UvicornWSGIServer",
        "WSGI",
        {"workers": "2", "access-log": False},
        host_port,
        "uvicorn",
        "uvicorn",
        "supervisor + 2 workers",
        ("uvicorn", "WSGI"),
    ),
    Server(
        "granian-asgi",
        f"{BACKENDS}.granian.GranianASGIServer",
        "ASGI",
        {"workers": "2"},
        host_port,
        "granian",
        "granian",
        "main process + 2 workers",
        ("granian", "ASGI"),
    ),
    Server(
        "granian-wsgi",
        f"{BACKENDS}.granian.GranianWSGIServer",
        "WSGI",
        {"workers": "2"},
        host_port,
        "granian",
        "granian",
        "main process + 2 workers",
        ("granian", "WSGI"),
    ),
    Server(
        "waitress",
        f"{BACKENDS}.waitress.WaitressServer",
        "WSGI",
        {"threads": "4"},
        listen,
        "waitress",
        "waitress-serve",
        "1 process, 4 threads",
        ("waitress", "WSGI"),
    ),
    Server(
        "daphne",
        f"{BACKENDS}.daphne.DaphneServer",
        "ASGI",
        {},
        daphne_address,
        "daphne",
        "daphne",
        "1 process",
        ("daphne", "ASGI"),
    ),
    Server(
        "hypercorn",
        f"{BACKENDS}.hypercorn.HypercornServer",
        "ASGI",
        {"workers": "2"},
        bind,
        "hypercorn",
        "hypercorn",
        "main process + 2 workers",
        ("hypercorn", "ASGI"),
    ),
)
SERVER_NAMES = tuple(server.name for server in SERVERS)


@dataclass
class Run:
    variant: str
    round: int
    first_response_s: float
    sync_rps: float
    sync_p99_ms: float
    async_rps: float
    async_p99_ms: float
    sequential_ms: float  # median time of a request from one client, one after the other
    kept_alive: bool  # the server kept that client's connection open between requests
    total_pss_kib: int
    processes: int
    stop_s: float | None  # None: still running STOP_TIMEOUT after SIGTERM, then killed
    left_at_exit: list[int]  # processes of the server still there when it exited
    left_for_s: float | None  # how long they stayed; None: still there after the grace
    other_cpu: float  # cores busy with other processes during the loads (the larger of two)
    attempts: int = 1
    wrk_errors: list[str] = field(default_factory=list)


METRICS = (
    Metric("sync_rps", "sync `/` requests/s", "req/s", 0),
    Metric("async_rps", "async `/async/` requests/s", "req/s", 0),
    Metric("sync_p99_ms", "sync `/` p99 latency", "ms", 1),
    Metric("async_p99_ms", "async `/async/` p99 latency", "ms", 1),
    Metric("sequential_ms", "one client, sequential requests, median latency", "ms", 2),
    Metric("total_pss_kib", "total memory (PSS, process tree)", "MiB", 1, scale=1 / 1024),
)


@dataclass
class Measured:
    server: Server
    runs: list[Run]
    commands: dict[str, str]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    error: str = ""

    @property
    def summaries(self) -> dict[str, Summary]:
        found = {metric.key: summarize(self.runs, metric) for metric in METRICS}
        return {key: summary for key, summary in found.items() if summary is not None}


# --- which backends can run ---------------------------------------------------------------


def unavailable(server: Server) -> str:
    """Why this backend cannot run here ("" if it can), checked in a fresh interpreter."""
    check = (
        "import importlib, sys\n"
        f"for name in {[server.module, *server.needs]!r}:\n"
        "    importlib.import_module(name)\n"
        f"module = importlib.import_module({server.backend_module!r})\n"
        f"getattr(module, {server.backend_class!r})\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode == 0:
        return ""
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}"


# --- the two commands ---------------------------------------------------------------------


def write_settings(directory: Path, server: Server) -> None:
    processes = {"web": {"BACKEND": server.backend, "ARGS": server.args}}
    (directory / f"{SETTINGS_MODULE}.py").write_text(
        "from exampleproject.settings import *  # noqa: F403\n\n"
        f"PRODUCTION_PROCESSES = {processes!r}\n"
    )


def web_env(run_dir: Path, port: int, settings_dir: Path) -> dict[str, str]:
    env = server_env(run_dir, port, drop=FOREIGN_ENV, drop_prefixes=FOREIGN_ENV_PREFIXES)
    env["PYTHONPATH"] = os.pathsep.join([str(settings_dir), str(EXAMPLE)])
    env["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    return env


def command_a(server: Server, port: int) -> list[str]:
    return [sys.executable, "manage.py", "prodserver", "web", *server.address(port)]


def command_b(server: Server, port: int, env: dict[str, str]) -> list[str]:
    """The `--dry-run` line for the same address, run with `python -m MODULE`."""
    printed = dry_run_line(command_a(server, port), env, server.command)
    return [sys.executable, "-m", server.module, *printed[1:]]


def command_for(server: Server, variant: str, port: int, env: dict[str, str]) -> list[str]:
    return command_a(server, port) if variant == "A" else command_b(server, port, env)


# --- CPU used by others -------------------------------------------------------------------


def busy_seconds() -> float:
    """CPU time spent in user and system mode by the whole machine (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    user, nice, system = (int(value) for value in fields[1:4])
    return (user + nice + system) / CLOCK_TICKS


def process_cpu_seconds(pid: int) -> float:
    info = read_proc(pid)
    return 0.0 if info is None else info.cpu_ticks / CLOCK_TICKS


def tree_cpu_seconds(pid: int) -> float:
    return process_cpu_seconds(pid) + sum(
        process_cpu_seconds(child.pid) for child in descendants(pid)
    )


def own_cpu_seconds() -> float:
    """This process and the children it waited for (wrk)."""
    mine = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def wait_for_quiet() -> float:
    """Wait (QUIET_WAIT at most) until others use OTHER_CPU_LIMIT cores or less; the last use."""
    deadline = time.monotonic() + QUIET_WAIT
    while True:
        started = (time.monotonic(), busy_seconds(), own_cpu_seconds())
        time.sleep(QUIET_SAMPLE)
        ended = (time.monotonic(), busy_seconds(), own_cpu_seconds())
        wall, busy, own = (end - start for end, start in zip(ended, started, strict=True))
        others = max(busy - own, 0.0) / wall
        if others <= OTHER_CPU_LIMIT or time.monotonic() >= deadline:
            return others


def load_with_others(
    wrk: str, port: int, seconds: int, path: str, server_pid: int
) -> tuple[WrkResult, float]:
    """wrk with --latency, and the cores that processes other than server and wrk kept busy."""
    started = (time.monotonic(), busy_seconds(), tree_cpu_seconds(server_pid), own_cpu_seconds())
    result = run_wrk(wrk, port, seconds, path, latency=True)
    ended = (time.monotonic(), busy_seconds(), tree_cpu_seconds(server_pid), own_cpu_seconds())
    wall, busy, server, own = (end - start for end, start in zip(ended, started, strict=True))
    return result, max(busy - server - own, 0.0) / wall


# --- one run ------------------------------------------------------------------------------


def sequential_latency_ms(port: int, path: str = "/") -> tuple[float, bool]:
    """Median time of SEQUENTIAL_REQUESTS GETs sent one after the other by one client.

    Without concurrency this shows a fixed delay per request, such as the 40 ms of a
    delayed ACK when a server leaves Nagle's algorithm on (TCP_NODELAY unset). The client
    keeps its connection open; a server that closes it after each response (gunicorn's
    sync workers) gets a new one per request. The second value says whether it kept it.
    """
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    times = []
    kept_alive = True
    try:
        for _ in range(SEQUENTIAL_REQUESTS):
            started = time.perf_counter()
            connection.request("GET", path)  # reconnects if the server closed the last one
            response = connection.getresponse()
            response.read()
            times.append(time.perf_counter() - started)
            if response.status != 200:
                raise BenchError(f"GET {path}, one client: status {response.status}")
            kept_alive = kept_alive and not response.will_close
    except (OSError, http.client.HTTPException) as error:
        raise BenchError(f"GET {path}, one client, failed: {error!r}") from error
    finally:
        connection.close()
    return statistics.median(times) * 1000, kept_alive


def measure_run(
    server: Server, variant: str, round_number: int, duration: int, wrk: str, settings_dir: Path
) -> Run:
    port = find_free_port()
    with tempfile.TemporaryDirectory(prefix=f"bench-{server.name}-{variant}-") as tmp:
        run_dir = Path(tmp)
        env = web_env(run_dir, port, settings_dir)
        argv = command_for(server, variant, port, env)
        log = run_dir / "server.log"
        label = f"{server.name} {variant} round {round_number}"
        with serving(argv, env, log, port, label) as (process, first_response):
            loads = {}
            others = []
            for view, path in VIEWS:
                run_wrk(wrk, port, WARMUP_SECONDS, path)
                loads[view], other = load_with_others(wrk, port, duration, path, process.pid)
                others.append(other)
            sequential_ms, kept_alive = sequential_latency_ms(port)
            children = descendants(process.pid)
            _, total_pss = tree_pss_kib(process.pid, children)
            stopped = terminate(process, children)
    return Run(
        variant=variant,
        round=round_number,
        first_response_s=first_response,
        sync_rps=loads["sync"].requests_per_s,
        sync_p99_ms=loads["sync"].p99_ms or 0.0,
        async_rps=loads["async"].requests_per_s,
        async_p99_ms=loads["async"].p99_ms or 0.0,
        sequential_ms=sequential_ms,
        kept_alive=kept_alive,
        total_pss_kib=total_pss,
        processes=1 + len(children),
        stop_s=stopped.seconds,
        left_at_exit=stopped.left_at_exit,
        left_for_s=stopped.left_for_s,
        other_cpu=max(others),
        wrk_errors=[f"{view}: {error}" for view, load in loads.items() for error in load.errors],
    )


def measure_server(server: Server, rounds: int, duration: int, wrk: str) -> Measured:
    load_before = os.getloadavg()
    runs: list[Run] = []
    error = ""
    with tempfile.TemporaryDirectory(prefix=f"bench-{server.name}-settings-") as tmp:
        settings_dir = Path(tmp)
        write_settings(settings_dir, server)
        sample_port = find_free_port()
        with tempfile.TemporaryDirectory(prefix="bench-cmd-") as sample:
            env = web_env(Path(sample), sample_port, settings_dir)
            try:
                commands = {
                    variant: shown(command_for(server, variant, sample_port, env), sample_port)
                    for variant in VARIANTS
                }
            except BenchError as failed:
                commands = {}
                error = str(failed)
        if not error:
            try:
                # least_disturbed_run pauses after each of its tries.
                for round_number, variant in alternating(rounds, pause=0.0):
                    runs.append(
                        least_disturbed_run(
                            server, variant, round_number, duration, wrk, settings_dir
                        )
                    )
            except BenchError as failed:
                error = str(failed)
    if error:
        print(f"{server.name}: not measured: {error}", file=sys.stderr, flush=True)
        runs = []
    return Measured(server, runs, commands, load_before, os.getloadavg(), error)


def least_disturbed_run(
    server: Server, variant: str, round_number: int, duration: int, wrk: str, settings_dir: Path
) -> Run:
    """One run; again (at most RETRIES times) while other processes took OTHER_CPU_LIMIT."""
    attempts: list[Run] = []
    for attempt in range(1, RETRIES + 2):
        others = wait_for_quiet()
        if others > OTHER_CPU_LIMIT:
            print(f"  still {others:.2f} cores busy with others: running anyway", file=sys.stderr)
        run = measure_run(server, variant, round_number, duration, wrk, settings_dir)
        print(progress_line(server, run), file=sys.stderr, flush=True)
        attempts.append(run)
        time.sleep(PAUSE_BETWEEN_RUNS)
        if run.other_cpu <= OTHER_CPU_LIMIT or attempt > RETRIES:
            break
        print(
            f"  other processes kept {run.other_cpu:.2f} cores busy: again in {RETRY_PAUSE:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        time.sleep(RETRY_PAUSE)
    kept = min(attempts, key=lambda run: run.other_cpu)
    kept.attempts = len(attempts)
    return kept


def progress_line(server: Server, run: Run) -> str:
    return (
        f"{server.name} round {run.round} {run.variant}: "
        f"sync {run.sync_rps:.0f} req/s p99 {run.sync_p99_ms:.1f} ms, "
        f"async {run.async_rps:.0f} req/s p99 {run.async_p99_ms:.1f} ms, "
        f"one client {run.sequential_ms:.2f} ms"
        f"{'' if run.kept_alive else ' (connection closed each time)'}, "
        f"PSS {run.total_pss_kib / 1024:.1f} MiB ({run.processes} processes), "
        f"stop {format_stop(run)}, left over {format_left(run)}, "
        f"others {run.other_cpu:.2f} cores"
        + (f", wrk: {'; '.join(run.wrk_errors)}" if run.wrk_errors else "")
    )


# --- report -------------------------------------------------------------------------------


def format_stop(run: Run) -> str:
    return "> 60 s (killed)" if run.stop_s is None else f"{run.stop_s:.2f} s"


def format_left(run: Run) -> str:
    if not run.left_at_exit:
        return "none"
    pids = ", ".join(map(str, run.left_at_exit))
    if run.left_for_s is None:
        return f"{pids} (still there after {LEFT_OVER_GRACE:.0f} s, killed)"
    return f"{pids} (gone {run.left_for_s:.2f} s later)"


def backend_table(measured: Measured) -> list[str]:
    lines = ab_table(measured.runs, METRICS, "prodserver", "command")
    stops = {
        variant: [run.stop_s for run in measured.runs if run.variant == variant]
        for variant in VARIANTS
    }
    cells = []
    for variant in VARIANTS:
        known = [value for value in stops[variant] if value is not None]
        median = f"{statistics.median(known):.2f}" if known else "-"
        slowest = "> 60" if None in stops[variant] else f"{max(known):.2f}"
        cells.append(f"{median} (max {slowest})")
    lines.append(f"| stop after SIGTERM (s) | {cells[0]} | {cells[1]} | | | |")
    return lines


def rounds_table(runs: list[Run]) -> list[str]:
    return markdown_table(
        "round | run | first 200 (s) | sync req/s | sync p99 (ms) | async req/s "
        "| async p99 (ms) | one client (ms) | PSS (MiB) | processes | stop | left over "
        "| others (cores) | tries | wrk errors",
        "rlrrrrrrrrllrrl",
        (
            f"{run.round} | {run.variant} | {run.first_response_s:.2f} | {run.sync_rps:.0f} "
            f"| {run.sync_p99_ms:.1f} | {run.async_rps:.0f} | {run.async_p99_ms:.1f} "
            f"| {run.sequential_ms:.2f}{'' if run.kept_alive else ' (new connection each)'} "
            f"| {run.total_pss_kib / 1024:.1f} | {run.processes} | {format_stop(run)} "
            f"| {format_left(run)} | {run.other_cpu:.2f} | {run.attempts} "
            f"| {'; '.join(run.wrk_errors) or 'none'}"
            for run in runs
        ),
    )


def summary_table(results: list[Measured]) -> list[str]:
    rows = []
    for measured in results:
        server = measured.server
        if not measured.runs:
            rows.append(
                f"{server.name} | {server.interface} | {server.processes} | not measured"
                + " |" * 12
            )
            continue
        cells = [server.name, server.interface, server.processes]
        for metric in METRICS:
            row = measured.summaries[metric.key]
            cells += [metric.format(row.median_a), ratio(row.ratio_median)]
        stops = [run.stop_s for run in measured.runs if run.variant == "A"]
        known = [value for value in stops if value is not None]
        cells.append(f"{statistics.median(known):.2f}" if known else "> 60")
        rows.append(" | ".join(cells))
    header = (
        "backend | serves | processes | sync req/s | A/B | async req/s | A/B "
        "| sync p99 (ms) | A/B | async p99 (ms) | A/B | one client (ms) | A/B "
        "| memory (MiB) | A/B | stop A (s)"
    )
    return markdown_table(header, "lll" + "r" * 13, rows)


def oddities(results: list[Measured]) -> list[str]:
    notes = []
    for measured in results:
        name = measured.server.name
        if measured.error:
            first_line = measured.error.strip().splitlines()[0]
            notes.append(f"- {name}: not measured: {first_line}")
        for run in measured.runs:
            where = f"{name} round {run.round} {run.variant}"
            if run.stop_s is None:
                notes.append(f"- {where}: still running 60 s after SIGTERM; killed.")
            elif run.stop_s > SLOW_STOP:
                notes.append(f"- {where}: took {run.stop_s:.2f} s to stop after SIGTERM.")
            if run.left_at_exit:
                notes.append(f"- {where}: left over when it exited: {format_left(run)}.")
            if run.other_cpu > OTHER_CPU_LIMIT:
                notes.append(
                    f"- {where}: other processes kept {run.other_cpu:.2f} cores busy during "
                    f"the load (the least of {run.attempts} tries)."
                )
            if run.wrk_errors:
                notes.append(f"- {where}: wrk reported {'; '.join(run.wrk_errors)}.")
    return notes or [
        "- none: every server stopped within 2 s, nothing was left, no wrk errors, no run "
        "disturbed by other processes."
    ]


def report(results: list[Measured], rounds: int, duration: int, skipped: list[str]) -> str:
    measured = [result for result in results if result.runs]
    loads = [(result.server.name, result.load_before, result.load_after) for result in results]
    lines = [
        *report_head(
            "Web servers: manage.py prodserver web (A) vs the --dry-run command (B)",
            f"{rounds} rounds per backend, A B alternating; wrk `-d{duration}s` per view.",
            VERSIONED,
            f"- wrk: {wrk_version()}",
            load_line("keeps about 2 runnable", loads),
            cores_note="; wrk shares the cores with the server",
        ),
        "",
        "The views are the example project's: `/` returns a short text from a sync view, "
        "`/async/` the same from an `async def` view. The figures compare servers, not "
        "applications: a real view spends its time in the database and templates.",
        "",
        "Set-up: a settings module `bench_web_settings` (`from exampleproject.settings "
        "import *`, then `PRODUCTION_PROCESSES = {'web': {'BACKEND': ..., 'ARGS': ...}}`) in "
        "a temporary directory; env `PYTHONPATH=<that directory>:example`, "
        "`DJANGO_SETTINGS_MODULE=bench_web_settings`, a fresh `XDG_RUNTIME_DIR` and "
        "`EXAMPLE_DATABASE` per run, and none of `PORT`, `WEB_CONCURRENCY`, `GUNICORN_*`, "
        "`UVICORN_*`, `GRANIAN_*`, `HYPERCORN_*`. cwd `example/`; stdout goes to /dev/null. "
        "No server writes an access log (uvicorn's is on by default: `access-log: False`).",
        "",
        f"Load: `wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{duration}s --latency "
        "http://127.0.0.1:PORT/` then the same on `/async/`, each after a discarded "
        f"`-d{WARMUP_SECONDS}s` warm-up; p99 is the `99%` line of wrk's latency distribution. "
        f"One client: the median time of {SEQUENTIAL_REQUESTS} GETs of `/` sent one "
        "after the other by one keep-alive client (Python's http.client), after the loads; "
        "a fixed delay per request shows here (gunicorn's sync workers close the connection "
        "after each response, so that client opens a new one each time). "
        "Memory: sum of `Pss:` in /proc/PID/smaps_rollup over the server process and "
        "all its descendants, right after the loads. Stop: SIGTERM to the server process until it "
        "exits; then whatever is left of its process group or of its descendants. A/B is "
        "taken round by round; the tables show the median of those ratios.",
        "",
        "Others: the machine's CPU time in user and system mode during each measured load, "
        "less that of the server's processes, of wrk and of the benchmark itself, in cores "
        "(the larger of the two loads). The machine is shared: a run where others took more "
        f"than {OTHER_CPU_LIMIT} cores is run again after {RETRY_PAUSE:.0f} s, "
        f"{RETRIES} times at most, and the least disturbed try is kept (`tries`). Before "
        f"each try the benchmark waits (up to {QUIET_WAIT:.0f} s) until others use at most "
        f"{OTHER_CPU_LIMIT} cores over {QUIET_SAMPLE:.0f} s.",
        "",
        "## Summary",
        "",
        "A's medians, and A/B. A/B above 1 means prodserver does more requests/s, or has "
        "the higher latency or memory.",
        "",
        *summary_table(results),
        "",
    ]
    if skipped:
        lines += ["Skipped (cannot run here):", "", *skipped, ""]
    lines += ["Anything odd:", "", *oddities(results), ""]
    for result in measured:
        server = result.server
        lines += [
            f"## {server.name}",
            "",
            f"`{server.backend}`, {server.interface}, {server.processes}; ARGS `{server.args!r}`.",
            "",
            f"- A: `{result.commands['A']}`",
            f"- B: `{result.commands['B']}` (the `--dry-run` line, with "
            f"`{server.command}` run as `python -m {server.module}`)",
            "",
            *backend_table(result),
            "",
            "Every round:",
            "",
            *rounds_table(result.runs),
            "",
        ]
    return "\n".join(lines)


# --- chart --------------------------------------------------------------------------------

COLOURS = {"sync": "#3a6ea5", "async": "#e07b39"}
FONT = "font-family='DejaVu Sans, Helvetica, Arial, sans-serif'"


def nice_step(top: float, ticks: int = 5) -> float:
    raw = max(top, 1.0) / ticks
    magnitude = 10 ** len(str(int(raw))) / 10
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def svg_chart(results: list[Measured], subtitle: str) -> str:
    """Bars of A's median requests/s per backend, sync and async; A/B above each bar."""
    rows = [result for result in results if result.runs]
    left, right, top, bottom = 70, 20, 96, 70
    group, bar, gap = 118, 40, 6
    plot_height = 320
    width = left + right + group * max(len(rows), 1)
    height = top + plot_height + bottom
    highest = max(
        (result.summaries[key].median_a for result in rows for key in ("sync_rps", "async_rps")),
        default=1.0,
    )
    step = nice_step(highest * 1.15)
    axis_top = step * (int(highest * 1.15 / step) + 1)

    def y(value: float) -> float:
        return top + plot_height - plot_height * value / axis_top

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' {FONT} font-size='12'>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='{left}' y='24' font-size='16' font-weight='bold'>"
        "Requests/s of manage.py prodserver web, per backend</text>",
        f"<text x='{left}' y='44' fill='#444'>{escape(subtitle)}</text>",
        f"<text x='{left}' y='62' fill='#444'>Above each bar: requests/s, then in bold A/B, "
        "prodserver / the --dry-run command (median of pairwise ratios; 1.00x = the same)."
        "</text>",
    ]
    legend_x = left
    for view, path in VIEWS:
        out.append(
            f"<rect x='{legend_x}' y='72' width='12' height='12' fill='{COLOURS[view]}'/>"
            f"<text x='{legend_x + 17}' y='82'>{view} view {escape(path)}</text>"
        )
        legend_x += 160
    value = 0.0
    while value <= axis_top + step / 2:
        ty = y(value)
        out.append(
            f"<line x1='{left}' x2='{width - right}' y1='{ty:.1f}' y2='{ty:.1f}' "
            f"stroke='{'#888' if value == 0 else '#ddd'}'/>"
            f"<text x='{left - 6}' y='{ty + 4:.1f}' text-anchor='end' fill='#444'>"
            f"{value:,.0f}</text>"
        )
        value += step
    out.append(
        f"<text transform='translate(16 {top + plot_height / 2}) rotate(-90)' "
        "text-anchor='middle' fill='#444'>requests/s (median of A)</text>"
    )
    for index, result in enumerate(rows):
        x0 = left + group * index + (group - 2 * bar - gap) / 2
        for offset, (view, _path) in enumerate(VIEWS):
            summary = result.summaries[f"{view}_rps"]
            bx = x0 + offset * (bar + gap)
            by = y(summary.median_a)
            centre = bx + bar / 2
            out.append(
                f"<rect x='{bx:.1f}' y='{by:.1f}' width='{bar}' "
                f"height='{top + plot_height - by:.1f}' fill='{COLOURS[view]}'>"
                f"<title>{escape(result.server.name)} {view}: {summary.median_a:.0f} req/s, "
                f"A/B {summary.ratio_median:.2f}</title></rect>"
                f"<text x='{centre:.1f}' y='{by - 5:.1f}' text-anchor='middle' "
                f"font-size='11' font-weight='bold'>{summary.ratio_median:.2f}x</text>"
                f"<text x='{centre:.1f}' y='{by - 19:.1f}' text-anchor='middle' "
                f"font-size='10' fill='#555'>{summary.median_a:.0f}</text>"
            )
        label_x = left + group * index + group / 2
        for line_number, text in enumerate(result.server.label):
            out.append(
                f"<text x='{label_x:.1f}' y='{top + plot_height + 18 + 15 * line_number}' "
                f"text-anchor='middle'>{escape(text)}</text>"
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- main ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    rounds: int
    duration: int
    only: tuple[str, ...]
    output_dir: Path


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="A B pairs per backend (3)")
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of each measured wrk run (10)"
    )
    add_only(parser, SERVER_NAMES)
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=RESULTS,
        help="where web-servers.md and .svg go (bench/results)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    return Options(args.rounds, args.duration, tuple(args.only or ()), args.output_dir)


def main() -> int:
    require_smaps_rollup()
    options = parse_options()
    wrk = require_wrk()
    servers = [server for server in SERVERS if not options.only or server.name in options.only]
    results: list[Measured] = []
    skipped: list[str] = []
    for server in servers:
        reason = unavailable(server)
        if reason:
            note = f"- {server.name} (`{server.backend}`): {reason}"
            print(f"skipping {server.name}: {reason}", file=sys.stderr, flush=True)
            skipped.append(note)
            continue
        results.append(measure_server(server, options.rounds, options.duration, wrk))
    if not results:
        print("no backend could run", file=sys.stderr)
        return 1
    text = report(results, options.rounds, options.duration, skipped)
    stem = "web-servers" if not options.only else "web-servers-" + "-".join(options.only)
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    subtitle = (
        f"{date}, {len(os.sched_getaffinity(0))} cores ({cpu_model()}), wrk -c{WRK_CONNECTIONS} "
        f"on the same cores; example project's tiny views"
    )
    chart = (options.output_dir / f"{stem}.svg", svg_chart(results, subtitle))
    publish(text, options.output_dir / f"{stem}.md", chart)
    return 0 if all(result.runs for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
