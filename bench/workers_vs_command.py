"""Every background worker: `manage.py prodserver NAME` (A) against its `--dry-run` line (B).

For each task framework the example project defines a worker for (Celery, django-tasks'
db_worker, django-q2's qcluster, RQ, Dramatiq, Huey), with the configuration the example's
settings give it, A and B run alternately (A B A B ...) over `--rounds`:

- A: `python manage.py prodserver NAME`;
- B: the line `manage.py prodserver NAME --dry-run` prints (`python manage.py db_worker ...`,
  `celery -A ... worker ...`), run as printed from example/ with the venv's python or
  console script, in the same environment.

Each run gets a fresh redis-server on a free port (for the frameworks that use Redis) and a
fresh SQLite file (migrated beforehand for the database queues), and measures:

1. start to first task: one task is enqueued before the worker starts; the time from
   Popen to the line the task appends to a file (polled every 10 ms, 60 s at most), and
   when the main process exec'd another program meanwhile (A for Celery: `python -m celery`);
2. throughput: one `manage.py shell -c` process enqueues `--tasks` tasks in a loop; tasks/s
   from that process's start until all their lines are in the file;
3. memory: the sum of PSS over the worker's main process and all its descendants, once idle
   after the tasks, and how many processes that is;
4. stop: SIGTERM to the main process; seconds until it exits, its exit status, and whatever
   of its process group or its descendants is left (killed afterwards).

The report gives, per backend, the medians of A and B and the median of the ratios A/B
taken round by round, then one table across backends. It is printed as markdown and
written to bench/results/workers-vs-command.md (`workers-vs-command-NAME.md` with
`--only NAME`).

Run from the repository root (Linux only; needs `redis-server` on PATH):

    .venv/bin/python bench/workers_vs_command.py [--rounds 3] [--tasks 200] [--only NAME]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from harness import HOST, RESULTS, BenchError
from harness.commands import SETTINGS, dry_run_line, environment, shown, venv_script
from harness.processes import (
    LEFT_OVER_GRACE,
    STOP_TIMEOUT,
    ProcInfo,
    cmdline,
    descendants,
    find_free_port,
    kill_tree,
    log_on_failure,
    require_smaps_rollup,
    start,
    tail,
    terminate,
    tree_pss_kib,
)
from harness.redis import redis_server, redis_version
from harness.rounds import VARIANTS, Metric, Summary, add_only, alternating, summarize
from harness.tables import ab_table, load_line, markdown_table, publish, ratio, report_head

POLL_INTERVAL = 0.010  # seconds between two reads of the effects file
FIRST_TASK_TIMEOUT = 60.0  # seconds from Popen to the first task's line
TASKS_TIMEOUT = 180.0  # seconds from the enqueueing shell's start to the last task's line
SHELL_TIMEOUT = 120.0  # migrate, or the shell that enqueues the first task
IDLE_SETTLE = 2.0  # seconds after the last task before memory is read
SLOW_STOP = 5.0  # a stop slower than this is pointed out in the report
FIRST = "first"
# Variables that would change a framework's or the example's behaviour: neither A nor B
# sees them (DJANGO_DEBUG turns on Huey's immediate mode and db_worker's reloader).
FOREIGN_ENV = ("DJANGO_DEBUG", "PYTHONPATH", "DJANGO_SETTINGS_MODULE")
FOREIGN_ENV_PREFIXES = ("CELERY_", "DRAMATIQ_", "EXAMPLE_")
# Distributions whose version goes into the report.
VERSIONED = (
    "django",
    "celery",
    "kombu",
    "django-tasks-db",
    "django-tasks",
    "django-q2",
    "django-rq",
    "rq",
    "dramatiq",
    "django-dramatiq",
    "huey",
    "redis",
)


@dataclass(frozen=True)
class Worker:
    """One backend: the example's process for it and how a task of it is enqueued."""

    name: str  # --only NAME
    process: str  # the name in the example's PRODUCTION_PROCESSES
    framework: str
    module: str  # must import for the backend to run
    redis: bool  # needs a Redis (the others keep their queue in the SQLite database)
    migrate: bool  # the queue is in the database: `manage.py migrate` before the run
    imports: str  # code that makes `enqueue(path, text)` available in the shell
    call: str  # the expression that enqueues one task, with `path` and `text`


WORKERS = (
    Worker(
        "celery",
        "worker",
        "Celery",
        "celery",
        redis=True,
        migrate=False,
        imports="from jobs.celery_tasks import record_line",
        call="record_line.delay(path, text)",
    ),
    Worker(
        "django-tasks",
        "tasks",
        "django-tasks (django-tasks-db)",
        "django_tasks_db",
        redis=False,
        migrate=True,
        imports="from jobs.database_tasks import record_line",
        call="record_line.enqueue(path, text)",
    ),
    Worker(
        "django-q2",
        "qcluster",
        "django-q2 (ORM broker)",
        "django_q",
        redis=False,
        migrate=True,
        imports="from django_q.tasks import async_task",
        call="async_task('jobs.q2_tasks.record_line', path, text)",
    ),
    Worker(
        "rq",
        "rqworker",
        "RQ (django-rq)",
        "django_rq",
        redis=True,
        migrate=False,
        imports="import django_rq\nfrom jobs.rq_tasks import record_line",
        call="django_rq.enqueue(record_line, path, text)",
    ),
    Worker(
        "dramatiq",
        "dramatiq",
        "Dramatiq (django-dramatiq)",
        "django_dramatiq",
        redis=True,
        migrate=False,
        imports="from jobs.dramatiq_tasks import record_line",
        call="record_line.send(path, text)",
    ),
    Worker(
        "huey",
        "huey",
        "Huey (djhuey)",
        "huey",
        redis=True,
        migrate=False,
        imports="from jobs.huey_tasks import record_line",
        call="record_line(path, text)",
    ),
)
WORKER_NAMES = tuple(worker.name for worker in WORKERS)


@dataclass
class Exec:
    """When the main process replaced its program (execve), and by what."""

    after_s: float
    into: str


@dataclass
class Run:
    variant: str
    round: int
    first_task_s: float
    execed: Exec | None  # the main process exec'd another program before the first task
    tasks_per_s: float
    tasks_s: float  # from the enqueueing shell's start to the last task's line
    enqueue_s: float  # how long the enqueueing shell ran
    duplicates: int  # task lines found more than once
    total_pss_kib: int
    main_pss_kib: int
    processes: int
    stop_s: float | None  # None: still running STOP_TIMEOUT after SIGTERM, then killed
    exit_status: int | None  # None: killed after the timeout
    left_at_exit: list[str] = field(default_factory=list)  # "pid name" still there at exit
    left_for_s: float | None = 0.0  # how long they stayed; None: killed after the grace


METRICS = (
    Metric("first_task_s", "start to first task", "s", 2),
    Metric("tasks_per_s", "throughput", "tasks/s", 1),
    Metric("total_pss_kib", "total memory (PSS, process tree)", "MiB", 1, scale=1 / 1024),
    Metric("main_pss_kib", "main process memory (PSS)", "MiB", 1, scale=1 / 1024),
    Metric("stop_s", "stop time (SIGTERM to exit)", "s", 2),
)


@dataclass
class Measured:
    worker: Worker
    commands: dict[str, str] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # runs (or the whole backend) not measured
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def summary(self, metric: Metric) -> Summary | None:
        return summarize(self.runs, metric)


# --- which backends can run, and their commands ---------------------------------------------


def unavailable(worker: Worker) -> str:
    """Why this backend cannot run here ("" if it can)."""
    if importlib.util.find_spec(worker.module) is None:
        return f"the package that provides `{worker.module}` is not installed"
    if worker.redis and shutil.which("redis-server") is None:
        return "redis-server is not on PATH"
    return ""


def unused_redis_url() -> str:
    """A Redis URL where nothing listens: a backend without Redis must not reach one."""
    return f"redis://{HOST}:{find_free_port()}/0"


def worker_env(run_dir: Path, redis_url: str) -> dict[str, str]:
    return environment(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "EXAMPLE_DATABASE": str(run_dir / "db.sqlite3"),
            "EXAMPLE_REDIS_URL": redis_url,
            "PYTHONUNBUFFERED": "1",  # a failed run's log tail holds the worker's last words
        },
        drop=FOREIGN_ENV,
        drop_prefixes=FOREIGN_ENV_PREFIXES,
    )


def command_a(worker: Worker) -> list[str]:
    return [sys.executable, "manage.py", "prodserver", worker.process]


def command_b(worker: Worker, env: dict[str, str]) -> list[str]:
    """The `--dry-run` line, with the venv's python or console script for its first word."""
    printed = dry_run_line(command_a(worker), env)
    program = sys.executable if printed[0] == "python" else venv_script(printed[0])
    return [program, *printed[1:]]


# --- processes ------------------------------------------------------------------------------


def manage(args: Sequence[str], env: dict[str, str], log: Path) -> None:
    """`python manage.py ARGS` to its end (SHELL_TIMEOUT at most); a failure is a BenchError."""
    process = start([sys.executable, "manage.py", *args], env, log, append=True)
    try:
        status = process.wait(timeout=SHELL_TIMEOUT)
    except subprocess.TimeoutExpired as late:
        raise BenchError(f"manage.py {args[0]} still running after {SHELL_TIMEOUT:.0f} s") from late
    finally:
        kill_tree(process, [])
    if status != 0:
        raise BenchError(f"manage.py {args[0]} failed ({status}): {tail(log)}")


def enqueue_code(worker: Worker, path: Path, texts: str) -> str:
    """`manage.py shell -c` code that enqueues one task per text of the expression `texts`."""
    return f"{worker.imports}\npath = {str(path)!r}\nfor text in {texts}:\n    {worker.call}\n"


def lines_in(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def wait_for_first(
    process: subprocess.Popen[bytes], argv: Sequence[str], effects: Path, started_at: float
) -> tuple[float, Exec | None]:
    """Seconds to the first task's line; and when the main process exec'd another program
    meanwhile (its /proc/PID/cmdline no longer ends with `argv`), read at the same polls."""
    execed: Exec | None = None
    while True:
        now = time.monotonic()
        if execed is None:
            words = cmdline(process.pid)
            # A script's shebang puts its interpreter before argv: still argv's program.
            if words and words[-len(argv) :] != list(argv):
                execed = Exec(now - started_at, shown(words[:3]))
        if FIRST in lines_in(effects):
            return now - started_at, execed
        if process.poll() is not None:
            raise BenchError(f"the worker exited ({process.returncode}) before the first task")
        if time.monotonic() - started_at > FIRST_TASK_TIMEOUT:
            raise BenchError(f"no first task within {FIRST_TASK_TIMEOUT:.0f} s")
        time.sleep(POLL_INTERVAL)


def wait_for_tasks(
    process: subprocess.Popen[bytes],
    shell: subprocess.Popen[bytes],
    effects: Path,
    expected: set[str],
    started_at: float,
    shell_log: Path,
) -> tuple[float, float, int]:
    """Seconds from `started_at` to all expected lines, the shell's run time, duplicates."""
    enqueue_s: float | None = None
    while True:
        now = time.monotonic()
        if enqueue_s is None and shell.poll() is not None:
            enqueue_s = now - started_at
            if shell.returncode != 0:
                raise BenchError(
                    f"the enqueueing shell failed ({shell.returncode}): {tail(shell_log)}"
                )
        lines = lines_in(effects)
        if expected <= set(lines):
            if enqueue_s is None:  # the shell is still exiting: wait for it
                shell.wait(timeout=SHELL_TIMEOUT)
                enqueue_s = time.monotonic() - started_at
            tasks = [line for line in lines if line != FIRST]
            return now - started_at, enqueue_s, len(tasks) - len(set(tasks))
        if process.poll() is not None:
            raise BenchError(f"the worker exited ({process.returncode}) during the tasks")
        if now - started_at > TASKS_TIMEOUT:
            done = len(expected & set(lines))
            raise BenchError(f"{done} of {len(expected)} tasks done after {TASKS_TIMEOUT:.0f} s")
        time.sleep(POLL_INTERVAL)


# --- one run --------------------------------------------------------------------------------


def measure_run(
    worker: Worker, variant: str, round_number: int, argv: list[str], tasks: int
) -> Run:
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{worker.name}-{variant}-") as tmp,
        ExitStack() as stack,
    ):
        run_dir = Path(tmp)
        redis_url = (
            stack.enter_context(redis_server(run_dir)) if worker.redis else unused_redis_url()
        )
        env = worker_env(run_dir, redis_url)
        effects = run_dir / "effects.txt"
        setup_log, shell_log, log = (
            run_dir / f"{name}.log" for name in ("setup", "shell", "worker")
        )
        if worker.migrate:
            manage(["migrate", "--verbosity=0"], env, setup_log)
        manage(["shell", "-c", enqueue_code(worker, effects, repr([FIRST]))], env, setup_log)
        started_at = time.monotonic()
        process = start(argv, env, log)
        # Grows as the worker's processes are seen: any still there at the end are killed.
        known: list[ProcInfo] = []
        stack.callback(kill_tree, process, known)
        stack.enter_context(log_on_failure(log))

        first_task_s, execed = wait_for_first(process, argv, effects, started_at)
        known += descendants(process.pid)

        texts = f"(f'task {{number}}' for number in range({tasks}))"
        code = enqueue_code(worker, effects, texts)
        expected = {f"task {number}" for number in range(tasks)}
        shell_started = time.monotonic()
        shell = start([sys.executable, "manage.py", "shell", "-c", code], env, shell_log)
        try:
            tasks_s, enqueue_s, duplicates = wait_for_tasks(
                process, shell, effects, expected, shell_started, shell_log
            )
        finally:
            kill_tree(shell, [])

        time.sleep(IDLE_SETTLE)
        if process.poll() is not None:
            raise BenchError(f"the worker exited ({process.returncode}) once idle")
        children = descendants(process.pid)
        known += children
        main_pss, total_pss = tree_pss_kib(process.pid, children)
        stopped = terminate(process, children)
    return Run(
        variant=variant,
        round=round_number,
        first_task_s=first_task_s,
        execed=execed,
        tasks_per_s=tasks / tasks_s,
        tasks_s=tasks_s,
        enqueue_s=enqueue_s,
        duplicates=duplicates,
        total_pss_kib=total_pss,
        main_pss_kib=main_pss,
        processes=1 + len(children),
        stop_s=stopped.seconds,
        exit_status=stopped.status,
        left_at_exit=stopped.left_names,
        left_for_s=stopped.left_for_s,
    )


def measure_worker(worker: Worker, rounds: int, tasks: int) -> Measured:
    measured = Measured(worker, load_before=os.getloadavg())
    with tempfile.TemporaryDirectory(prefix=f"bench-{worker.name}-cmd-") as tmp:
        env = worker_env(Path(tmp), unused_redis_url())
        try:
            commands = {"A": command_a(worker), "B": command_b(worker, env)}
        except BenchError as error:
            measured.errors.append(f"no command: {error}")
            print(f"{worker.name}: not measured: {error}", file=sys.stderr, flush=True)
            return measured
    measured.commands = {variant: shown(argv) for variant, argv in commands.items()}
    for round_number, variant in alternating(rounds):
        try:
            run = measure_run(worker, variant, round_number, commands[variant], tasks)
        except BenchError as error:
            message = f"round {round_number} {variant}: {error}"
            measured.errors.append(message)
            print(f"{worker.name} {message}", file=sys.stderr, flush=True)
        else:
            measured.runs.append(run)
            print(progress_line(worker, run), file=sys.stderr, flush=True)
    measured.load_after = os.getloadavg()
    return measured


def progress_line(worker: Worker, run: Run) -> str:
    return (
        f"{worker.name} round {run.round} {run.variant}: first task {run.first_task_s:.2f} s"
        + (f" (exec'd {run.execed.into} at {run.execed.after_s:.2f} s)" if run.execed else "")
        + ", "
        f"{run.tasks_per_s:.1f} tasks/s (enqueue {run.enqueue_s:.2f} s), "
        f"PSS {run.total_pss_kib / 1024:.1f} MiB ({run.processes} processes), "
        f"stop {format_stop(run)}, left over {format_left(run)}"
    )


# --- report ---------------------------------------------------------------------------------


def format_stop(run: Run) -> str:
    if run.stop_s is None:
        return f"> {STOP_TIMEOUT:.0f} s (killed)"
    return f"{run.stop_s:.2f} s, status {run.exit_status}"


def format_left(run: Run) -> str:
    if not run.left_at_exit:
        return "none"
    how_long = (
        f"gone after {run.left_for_s:.2f} s"
        if run.left_for_s is not None
        else f"still there after {LEFT_OVER_GRACE:.0f} s, killed"
    )
    return f"{', '.join(run.left_at_exit)} ({how_long})"


def format_exec(run: Run) -> str:
    return f"{run.execed.after_s:.2f} (`{run.execed.into}`)" if run.execed else "-"


def exec_lines(measured: Measured) -> list[str]:
    """The median time at which each variant's main process exec'd another program."""
    lines = []
    for variant in VARIANTS:
        execs = [run.execed for run in measured.runs if run.variant == variant and run.execed]
        if execs:
            median = statistics.median(execed.after_s for execed in execs)
            lines.append(
                f"- {variant}'s main process exec'd `{execs[0].into} ...` {median:.2f} s after "
                f"Popen (median; {len(execs)} of the runs); the first task's time includes it."
            )
    return lines


def backend_table(measured: Measured) -> list[str]:
    return ab_table(measured.runs, METRICS, "prodserver", "--dry-run line")


def rounds_table(runs: list[Run]) -> list[str]:
    return markdown_table(
        "round | run | first task (s) | exec'd at (s) | tasks/s | all tasks (s) "
        "| enqueueing shell (s) | PSS (MiB) | main PSS (MiB) | processes | stop | left over "
        "| duplicates",
        "rlrlrrrrrrllr",
        (
            f"{run.round} | {run.variant} | {run.first_task_s:.2f} | {format_exec(run)} "
            f"| {run.tasks_per_s:.1f} | {run.tasks_s:.2f} | {run.enqueue_s:.2f} "
            f"| {run.total_pss_kib / 1024:.1f} | {run.main_pss_kib / 1024:.1f} | {run.processes} "
            f"| {format_stop(run)} | {format_left(run)} | {run.duplicates}"
            for run in sorted(runs, key=lambda run: (run.round, run.variant))
        ),
    )


SUMMARY_METRICS = (METRICS[0], METRICS[1], METRICS[2], METRICS[4])


def summary_table(results: list[Measured]) -> list[str]:
    rows = []
    for measured in results:
        cells = []
        for metric in SUMMARY_METRICS:
            row = measured.summary(metric)
            cells += [metric.format(row.median_a), ratio(row.ratio_median)] if row else ["n/a", ""]
        counts = {
            variant: sorted({run.processes for run in measured.runs if run.variant == variant})
            for variant in VARIANTS
        }
        processes = " / ".join(",".join(map(str, counts[variant])) or "-" for variant in VARIANTS)
        rows.append(" | ".join([measured.worker.name, processes, *cells]))
    return markdown_table(
        "backend | processes A / B | first task A (s) | A/B | tasks/s A | A/B "
        "| PSS A (MiB) | A/B | stop A (s) | A/B",
        "ll" + "r" * 8,
        rows,
    )


def oddities(results: list[Measured], tasks: int) -> list[str]:
    notes = []
    for measured in results:
        name = measured.worker.name
        for error in measured.errors:
            first_line = error.strip().splitlines()[0]
            notes.append(f"- {name} {first_line} (not measured; log tail below)")
        for run in sorted(measured.runs, key=lambda run: (run.round, run.variant)):
            where = f"{name} round {run.round} {run.variant}"
            if run.stop_s is None:
                notes.append(
                    f"- {where}: still running {STOP_TIMEOUT:.0f} s after SIGTERM; killed."
                )
            else:
                if run.exit_status != 0:
                    notes.append(f"- {where}: exit status {run.exit_status} after SIGTERM.")
                if run.stop_s > SLOW_STOP:
                    notes.append(f"- {where}: took {run.stop_s:.2f} s to stop after SIGTERM.")
            if run.left_at_exit:
                notes.append(f"- {where}: left over when it exited: {format_left(run)}.")
            if run.duplicates:
                notes.append(f"- {where}: {run.duplicates} of {tasks} tasks ran more than once.")
    return notes or [
        f"- none: every worker exited with status 0 within {SLOW_STOP:.0f} s of SIGTERM, "
        "nothing was left, no timeout, no task ran twice."
    ]


def report(
    results: list[Measured], rounds: int, tasks: int, skipped: list[str], notes: Sequence[str]
) -> str:
    loads = [(result.worker.name, result.load_before, result.load_after) for result in results]
    lines = [
        *report_head(
            "Background workers: manage.py prodserver NAME (A) vs the --dry-run command (B)",
            f"{rounds} round{'s' if rounds != 1 else ''} per backend, A B alternating; "
            f"{tasks} tasks per run.",
            VERSIONED,
            f"- redis-server: {redis_version()}",
            load_line("keeps one or two processes busy", loads),
        ),
        "",
        "Set-up: the example project's settings (`exampleproject.settings`) and processes, "
        "unchanged; cwd `example/`; env `DJANGO_SETTINGS_MODULE=exampleproject.settings`, "
        "`PYTHONUNBUFFERED=1`, a fresh `EXAMPLE_DATABASE` (SQLite) per run and, for the "
        "frameworks on Redis, a fresh `redis-server` on a free port per run "
        "(`EXAMPLE_REDIS_URL`; the others get a URL where nothing listens); no `DJANGO_DEBUG`, "
        "`PYTHONPATH`, `CELERY_*`, `DRAMATIQ_*`. The worker's output goes to a file. "
        "django-tasks and django-q2 keep their queue in the database: `manage.py migrate` "
        "runs before each of their runs, outside the measurements.",
        "",
        "Every task appends a line to a file (`example/jobs/effects.py`). Start to first task: "
        "one task is enqueued (`manage.py shell -c`) before the worker starts; from Popen "
        "until its line is in the file, polled every 10 ms. Throughput: one `manage.py shell "
        f"-c` process enqueues {tasks} tasks in a loop while the worker runs; tasks/s from "
        "that process's start (so it includes the shell's own start, the same for A and B) "
        "until all their lines are in the file. Where the last task is done about when the "
        "shell ends (compare `all tasks` with `enqueueing shell` in the rounds), tasks/s is "
        "bounded by the enqueueing, not by the worker: it compares A with B, not the "
        "frameworks with one another. Memory: sum of `Pss:` in "
        "/proc/PID/smaps_rollup over the worker's main process and all its descendants, "
        f"{IDLE_SETTLE:.0f} s after the last task. Stop: SIGTERM to the main process until it "
        "exits, then whatever is left of its process group or of its descendants. A/B is "
        "taken round by round; the tables show the median of those ratios.",
        "",
        "## Summary",
        "",
        "A's medians, and A/B (median of the pairwise ratios). A/B above 1 means prodserver "
        "takes longer to the first task or to stop, runs more tasks/s, or uses more memory.",
        "",
        *summary_table(results),
        "",
    ]
    if skipped:
        lines += ["Skipped (cannot run here):", "", *skipped, ""]
    lines += ["Anything odd:", "", *oddities(results, tasks), ""]
    if notes:
        lines += ["Notes:", "", *notes, ""]
    for measured in results:
        worker = measured.worker
        lines += [
            f"## {worker.name}",
            "",
            f"{worker.framework}: the example's process `{worker.process}`.",
            "",
        ]
        if measured.commands:
            lines += [
                f"- A: `{measured.commands['A']}`",
                f"- B: `{measured.commands['B']}` (the `--dry-run` line)",
                "",
            ]
        if measured.runs:
            execs = exec_lines(measured)
            lines += [
                *backend_table(measured),
                "",
                *execs,
                *([""] if execs else []),
                "Every round:",
                "",
                *rounds_table(measured.runs),
                "",
            ]
        for error in measured.errors:
            lines += [f"Not measured: {error.splitlines()[0]}", "", "```", error, "```", ""]
    return "\n".join(lines)


# Why A and B differ where they do: what A does that B does not. One note per backend,
# shown when that backend is measured; "*" applies to several.
NOTES: dict[str, str] = {
    "celery": (
        "celery: A is a `manage.py` process first: Python's start, `django.setup()` of the "
        "example's apps, prodserver's checks (which plan the process: they load the Celery "
        "app and Celery's own click commands to check the options), a connection to the "
        "broker, then an execve of `python -m celery ...` (same PID), which starts from "
        "scratch as B does. So A's start to first task is B's plus that first phase (the "
        "`exec'd at` column, about half a second here, most of it the project's own "
        "`django.setup()` and Celery's imports, done twice). After the exec A is the same "
        "program as B: memory, throughput and stop are B's."
    ),
    "dramatiq": (
        "dramatiq: both variants exec: `rundramatiq` replaces itself with the `dramatiq` "
        "program in B as well. A runs prodserver's checks and plan and PINGs the broker "
        "before calling `rundramatiq`; its cost is the gap between the two `exec'd at` "
        "medians. After the exec both are the same program."
    ),
    "django-tasks": (
        "django-tasks: db_worker sleeps a random 0 to 1 s before its first look at the "
        "queue (`--no-startup-delay` turns that off; the example leaves it on), so its start "
        "to first task and the A/B of it are mostly that sleep: read the spread, not the "
        "median."
    ),
    "*": (
        "django-tasks, django-q2, rq, huey: A runs the framework's management command in "
        "the `manage.py prodserver` process itself (same PID, no exec), with prodserver's "
        "own modules (its command, checks and the backend) loaded beside it."
    ),
    "django-q2": (
        "django-q2: its six processes are forked from the main one and each copies "
        "inherited pages as it touches them, at its own pace: the total PSS of one cluster "
        "moves by several MiB during its first minute (idle, one reading of A and B side "
        "by side: A went from 101 to 108 MiB at 30 s, B from 105 to 117 MiB at 60 s). "
        "At the benchmark's reading, B's pusher process holds about 3.5 MiB more private "
        "anonymous memory than A's, although the modules loaded at the fork are the same "
        "but for prodserver's own; A/B on memory here is that noise, not a saving."
    ),
}


# --- main -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    rounds: int
    tasks: int
    only: tuple[str, ...]


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="A B pairs per backend (3)")
    parser.add_argument("--tasks", type=int, default=200, help="tasks enqueued per run (200)")
    add_only(parser, WORKER_NAMES)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.tasks < 1:
        parser.error("--rounds and --tasks must be at least 1")
    return Options(args.rounds, args.tasks, tuple(args.only or ()))


def main() -> int:
    require_smaps_rollup()
    options = parse_options()
    results: list[Measured] = []
    skipped: list[str] = []
    for worker in WORKERS:
        if options.only and worker.name not in options.only:
            continue
        reason = unavailable(worker)
        if reason:
            print(f"skipping {worker.name}: {reason}", file=sys.stderr, flush=True)
            skipped.append(f"- {worker.name}: {reason}")
            continue
        results.append(measure_worker(worker, options.rounds, options.tasks))
    if not results:
        print("no backend could run", file=sys.stderr)
        return 1
    names = {measured.worker.name for measured in results if measured.runs}
    in_process = {"django-tasks", "django-q2", "rq", "huey"}
    notes = [
        f"- {text}"
        for name, text in NOTES.items()
        if name in names or (name == "*" and names & in_process)
    ]
    text = report(results, options.rounds, options.tasks, skipped, notes)
    stem = "workers-vs-command" + "".join(f"-{name}" for name in options.only)
    publish(text, RESULTS / f"{stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
