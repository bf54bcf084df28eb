"""Compare `manage.py prodserver web` (A) with the `gunicorn` command it stands for (B).

A runs gunicorn inside the `manage.py` process: Django and the URLconf are loaded in
the master before it forks, so the workers share those pages. B is the command line
that `manage.py prodserver web --dry-run` prints, run as a plain command: every worker
imports Django on its own.

Both run alternately (A B A B ...) with the same options, on 127.0.0.1 and a fresh free
port each time. Each run measures:

1. time from Popen to the first HTTP 200 on `/` (polled every 10 ms),
2. requests/s from `wrk -t2 -c32 -d<duration>s` after a discarded 2 s warm-up,
3. PSS of the master plus all its descendants, and of the master alone, read from
   /proc/PID/smaps_rollup right after the wrk run,
4. time from SIGTERM to the master's exit (and whether any process is left).

The report gives, per metric, the median of A, the median of B, and the median, min and
max of the ratios A/B taken round by round. It is printed as markdown and written to
bench/results/gunicorn-<worker class>.md.

Run from the repository root (Linux only; needs wrk: `apt-get install wrk`):

    .venv/bin/python bench/gunicorn_vs_command.py [--rounds 5] [--worker-class sync]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness import HOST, RESULTS, BenchError
from harness.commands import SETTINGS, dry_run_line, server_env, shown, venv_script
from harness.http import (
    WARMUP_SECONDS,
    WRK_CONNECTIONS,
    WRK_THREADS,
    require_wrk,
    run_wrk,
    serving,
    wrk_version,
)
from harness.processes import (
    STOP_TIMEOUT,
    descendants,
    find_free_port,
    require_smaps_rollup,
    terminate,
    tree_pss_kib,
)
from harness.rounds import VARIANTS, Metric, alternating
from harness.tables import ab_table, markdown_table, publish, report_head


@dataclass(frozen=True)
class Options:
    rounds: int
    workers: int
    worker_class: str
    duration: int

    def server_overrides(self, port: int) -> list[str]:
        return [
            f"--bind={HOST}:{port}",
            f"--workers={self.workers}",
            f"--worker-class={self.worker_class}",
        ]


@dataclass
class RunResult:
    variant: str
    round: int
    first_response_s: float
    requests_per_s: float
    total_pss_kib: int
    master_pss_kib: int
    processes: int
    stop_s: float
    left_over: list[int]
    wrk_errors: list[str]


METRICS = (
    Metric(
        "first_response_s",
        "time to first 200",
        "s",
        2,
        target="<= 1.2x",
        target_met=lambda ratio: ratio <= 1.2,
    ),
    Metric(
        "requests_per_s",
        "throughput",
        "req/s",
        0,
        target=">= 0.97x",
        target_met=lambda ratio: ratio >= 0.97,
    ),
    Metric(
        "total_pss_kib",
        "total memory (PSS, master + workers)",
        "MiB",
        1,
        scale=1 / 1024,
        target="<= 0.8x",
        target_met=lambda ratio: ratio <= 0.8,
    ),
    Metric("master_pss_kib", "master memory (PSS)", "MiB", 1, scale=1 / 1024),
    Metric("stop_s", "stop time (SIGTERM to exit)", "s", 2),
)


# --- the two commands ---------------------------------------------------------------------


def command_a(options: Options, port: int) -> list[str]:
    return [sys.executable, "manage.py", "prodserver", "web", *options.server_overrides(port)]


def command_b(options: Options, port: int, env: dict[str, str]) -> list[str]:
    """The `--dry-run` line for the same overrides, with the venv's gunicorn script."""
    printed = dry_run_line(command_a(options, port), env, "gunicorn")
    return [venv_script("gunicorn"), *printed[1:]]


def command_for(variant: str, options: Options, port: int, env: dict[str, str]) -> list[str]:
    return command_a(options, port) if variant == "A" else command_b(options, port, env)


# --- one run ------------------------------------------------------------------------------


def measure_run(variant: str, round_number: int, options: Options, wrk: str) -> RunResult:
    port = find_free_port()
    with tempfile.TemporaryDirectory(prefix=f"bench-{variant}-") as tmp:
        run_dir = Path(tmp)
        env = server_env(run_dir, port)
        argv = command_for(variant, options, port, env)
        log = run_dir / "server.log"
        label = f"{variant} round {round_number}"
        with serving(argv, env, log, port, label) as (server, first_response):
            run_wrk(wrk, port, WARMUP_SECONDS)
            load = run_wrk(wrk, port, options.duration)
            children = descendants(server.pid)
            master_pss, total_pss = tree_pss_kib(server.pid, children)
            # Left-overs are reported, not waited for.
            stopped = terminate(server, children, grace=0.0)
            if stopped.seconds is None:
                raise BenchError(f"the master did not exit within {STOP_TIMEOUT:.0f} s of SIGTERM")
    return RunResult(
        variant=variant,
        round=round_number,
        first_response_s=first_response,
        requests_per_s=load.requests_per_s,
        total_pss_kib=total_pss,
        master_pss_kib=master_pss,
        processes=1 + len(children),
        stop_s=stopped.seconds,
        left_over=stopped.left_at_exit,
        wrk_errors=load.errors,
    )


def run_rounds(options: Options, wrk: str) -> list[RunResult]:
    runs: list[RunResult] = []
    for round_number, variant in alternating(options.rounds):
        run = measure_run(variant, round_number, options, wrk)
        print(progress_line(run), file=sys.stderr, flush=True)
        runs.append(run)
    return runs


def progress_line(run: RunResult) -> str:
    return (
        f"round {run.round} {run.variant}: first 200 {run.first_response_s:.2f} s, "
        f"{run.requests_per_s:.0f} req/s, PSS {run.total_pss_kib / 1024:.1f} MiB "
        f"(master {run.master_pss_kib / 1024:.1f}, {run.processes} processes), "
        f"stop {run.stop_s:.2f} s, left over {run.left_over or 'none'}"
    )


# --- report -------------------------------------------------------------------------------


def rounds_table(runs: list[RunResult]) -> list[str]:
    return markdown_table(
        "round | run | first 200 (s) | req/s | total PSS (MiB) | master PSS (MiB) | processes "
        "| stop (s) | left over | wrk errors",
        "rlrrrrrrll",
        (
            f"{run.round} | {run.variant} | {run.first_response_s:.2f} | {run.requests_per_s:.0f} "
            f"| {run.total_pss_kib / 1024:.1f} | {run.master_pss_kib / 1024:.1f} | {run.processes} "
            f"| {run.stop_s:.2f} | {', '.join(map(str, run.left_over)) or 'none'} "
            f"| {'; '.join(run.wrk_errors) or 'none'}"
            for run in runs
        ),
    )


def report(options: Options, runs: list[RunResult], commands: dict[str, str]) -> str:
    lines = [
        *report_head(
            f"manage.py prodserver vs gunicorn: {options.worker_class} workers",
            f"{options.rounds} rounds, A B alternating, {options.workers} workers, "
            f"worker class `{options.worker_class}`.",
            ("gunicorn", "Django"),
            f"- wrk: {wrk_version()}",
            optional=("gevent",),
        ),
        "",
        "Commands (cwd `example/`, PORT a free port on 127.0.0.1, new each run; env "
        f"`DJANGO_SETTINGS_MODULE={SETTINGS}`, a fresh `XDG_RUNTIME_DIR` and `EXAMPLE_DATABASE` "
        "per run; stdout, the access log, goes to /dev/null):",
        "",
        f"- A: `{commands['A']}`",
        f"- B: `{commands['B']}` (the line `prodserver web --dry-run` prints for the same options)",
        f"- load: `wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{options.duration}s "
        f"http://127.0.0.1:PORT/` after a discarded `-d{WARMUP_SECONDS}s` warm-up",
        "",
        "Time to first 200: Popen until the first HTTP 200 on `/`, polled every 10 ms. "
        "Memory: sum of `Pss:` in /proc/PID/smaps_rollup of the master and all its "
        "descendants, read right after the wrk run. Stop: SIGTERM to the master until it exits. "
        "A/B is computed round by round, then the median, min and max of those ratios are shown.",
        "",
        *ab_table(
            runs,
            METRICS,
            "manage.py prodserver",
            "gunicorn",
            ratio_digits=3,
            targets=True,
        ),
        "",
        "Every round:",
        "",
        *rounds_table(runs),
        "",
    ]
    return "\n".join(lines)


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="A B pairs to run (default 5)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread", "gevent"),
        default="sync",
        help="gunicorn worker class (default sync)",
    )
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of each measured wrk run (default 10)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.workers < 1 or args.duration < 1:
        parser.error("--rounds, --workers and --duration must be at least 1")
    return Options(args.rounds, args.workers, args.worker_class, args.duration)


def main() -> int:
    require_smaps_rollup()
    options = parse_options()
    wrk = require_wrk()
    sample_port = find_free_port()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-cmd-") as tmp:
            env = server_env(Path(tmp), sample_port)
            commands = {
                variant: shown(command_for(variant, options, sample_port, env), sample_port)
                for variant in VARIANTS
            }
        runs = run_rounds(options, wrk)
    except BenchError as error:
        print(f"benchmark aborted: {error}", file=sys.stderr)
        return 1
    publish(report(options, runs, commands), RESULTS / f"gunicorn-{options.worker_class}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
