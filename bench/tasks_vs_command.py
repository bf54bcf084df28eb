"""Django's task framework: TasksWorker (A) against each task backend's own worker command (B).

For each task backend whose package is installed (db_worker, concurrent_worker, rqworker,
run_redis_tasks, run_huey, the Celery worker; procrastinate's worker beside them), with
`TASKS["default"]` set to it in a settings module on top of the example project's, A and B
run alternately (A B A B ...) over `--rounds`:

- A: `python manage.py prodserver tasks`, the process being
  `{"BACKEND": "django_prodserver.backends.tasks.TasksWorker"}` (procrastinate:
  `backends.procrastinate.ProcrastinateWorker`);
- B: the line `prodserver tasks --dry-run` prints (`python manage.py rqworker --job-class=...`),
  run as printed from example/ with the venv's python or console script.

Each run gets a fresh redis-server (for the backends on Redis) and a fresh SQLite file
(migrated beforehand); procrastinate's runs share one PostgreSQL cluster started for them.
Measured, per run:

1. first task: a task is enqueued with `.enqueue()` (procrastinate: `.defer()`) before the
   worker starts; seconds from Popen until the line the task appends is in a file (polled
   every 10 ms);
2. warm stop: a task that records its start, sleeps `--task-seconds` and records its end is
   enqueued; once it has started, SIGTERM; seconds from the signal until the worker exits,
   and of those the seconds after the task's end line (the worker's own stop), with its
   exit status and whatever of its process group is left.

The report gives, per backend, the medians of A and B and the median of the ratios A/B
taken round by round. Written to bench/results/tasks-vs-command.md
(`tasks-vs-command-NAME.md` with `--only NAME`).

Run from the repository root (Linux; redis-server on PATH, PostgreSQL's initdb for
procrastinate):

    .venvs/tasks/bin/python bench/tasks_vs_command.py [--rounds 5] [--only NAME]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness import REPO, RESULTS, BenchError
from harness.commands import dry_run_line, environment, venv_script
from harness.processes import descendants, group_members, kill_tree, start, tail, terminate
from harness.redis import redis_server, redis_version
from harness.rounds import Metric, alternating, summarize
from harness.tables import ab_table, markdown_table, publish, ratio, report_head

sys.path.insert(0, str(REPO))  # tests.brokers: the PostgreSQL cluster the tests start

POLL_INTERVAL = 0.010
FIRST_TASK_TIMEOUT = 60.0
STOP_TIMEOUT = 90.0
SLOW_STOP = 10.0  # seconds from SIGTERM to exit, with a 2 s task running
FOREIGN_ENV = ("DJANGO_DEBUG", "PYTHONPATH", "DJANGO_SETTINGS_MODULE")
FOREIGN_ENV_PREFIXES = ("CELERY_", "DRAMATIQ_", "EXAMPLE_")
TASKS_WORKER = "django_prodserver.backends.tasks.TasksWorker"
PROCRASTINATE = "django_prodserver.backends.procrastinate.ProcrastinateWorker"
VERSIONED = ("django", "django-tasks-db", "django-tasks", "redis")
OPTIONAL_VERSIONS = (
    "django-tasks-rq",
    "django-rq",
    "rq",
    "django-tasks-redis",
    "django-tasks-concurrent",
    "huey",
    "django-tasks-celery",
    "celery",
    "procrastinate",
    "psycopg",
)
ENQUEUE = "from jobs import database_tasks as tasks\ntasks.{task}.enqueue({arguments})"
DEFER = "from jobs import procrastinate_tasks as tasks\ntasks.{task}.defer({arguments})"


@dataclass(frozen=True)
class Backend:
    name: str
    module: str
    settings: str
    args: dict[str, object] = field(default_factory=dict)
    redis: bool = False
    migrate: bool = False
    postgres: bool = False
    backend: str = TASKS_WORKER
    enqueue: str = ENQUEUE


BACKENDS = (
    Backend(
        "db_worker",
        "django_tasks_db",
        'TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}',
        {"interval": 0.1, "no_startup_delay": True},
        migrate=True,
    ),
    Backend(
        "concurrent_worker",
        "django_tasks_concurrent",
        'TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}',
        {"worker": "concurrent_worker", "interval": 0.1},
        migrate=True,
    ),
    Backend(
        "rqworker",
        "django_tasks_rq",
        'TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}',
        redis=True,
    ),
    Backend(
        "run_redis_tasks",
        "django_tasks_redis",
        'TASKS = {"default": {"BACKEND": "django_tasks_redis.RedisTaskBackend", '
        '"OPTIONS": {"REDIS_URL": REDIS_URL}}}',
        redis=True,
    ),
    Backend(
        "run_huey",
        "huey",
        'TASKS = {"default": {"BACKEND": "huey.contrib.djhuey.tasks_backend.HueyBackend"}}',
        {"workers": 2},
        redis=True,
    ),
    Backend(
        "celery worker",
        "django_tasks_celery",
        'TASKS = {"default": {"BACKEND": "django_tasks_celery.CeleryBackend", '
        '"OPTIONS": {"CELERY_APP": "exampleproject.celery.app"}}}\n'
        'CELERY_IMPORTS = ["jobs.database_tasks"]',
        {"concurrency": 2},
        redis=True,
    ),
    Backend(
        "procrastinate",
        "procrastinate",
        "",
        {"concurrency": 2},
        migrate=True,
        postgres=True,
        backend=PROCRASTINATE,
        enqueue=DEFER,
    ),
)
NAMES = tuple(backend.name for backend in BACKENDS)


@dataclass
class Run:
    variant: str
    round: int
    first_task_s: float
    stop_s: float | None
    after_task_s: float | None  # from the slow task's end line to the worker's exit
    status: int | None
    left: list[str]


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def wait_for_line(path: Path, line: str, process, timeout: float) -> float:
    """monotonic() when `line` is in the file; BenchError if the worker exits first."""
    deadline = time.monotonic() + timeout
    while line not in lines_of(path):
        if process.poll() is not None:
            raise BenchError(f"the worker exited with {process.returncode} before {line!r}")
        if time.monotonic() > deadline:
            raise BenchError(f"{line!r} not recorded after {timeout} s")
        time.sleep(POLL_INTERVAL)
    return time.monotonic()


def shell(env: dict[str, str], code: str) -> None:
    done = start_and_wait([sys.executable, "manage.py", "shell", "-c", code], env)
    if done:
        raise BenchError(f"manage.py shell failed: {done}")


def start_and_wait(argv: list[str], env: dict[str, str]) -> str:
    import subprocess

    result = subprocess.run(
        argv, cwd=REPO / "example", env=env, capture_output=True, text=True, timeout=120
    )
    return "" if result.returncode == 0 else result.stderr[-2000:]


def enqueue(backend: Backend, env: dict[str, str], task: str, *args: object) -> None:
    if backend.enqueue == DEFER:
        names = ("path", "text", "seconds")
        arguments = ", ".join(f"{name}={arg!r}" for name, arg in zip(names, args, strict=False))
    else:
        arguments = ", ".join(repr(arg) for arg in args)
    shell(env, backend.enqueue.format(task=task, arguments=arguments))


def settings_module(folder: Path, backend: Backend) -> None:
    processes = {"tasks": {"BACKEND": backend.backend, "ARGS": backend.args}}
    (folder / "bench_tasks_settings.py").write_text(
        f"from exampleproject.settings import *  # noqa\n{backend.settings}\n"
        f"PRODUCTION_PROCESSES = {processes!r}\n"
    )


@contextmanager
def services(backend: Backend, run_dir: Path, postgres: dict[str, str]) -> Iterator[dict[str, str]]:
    """The variables of the run: a fresh redis-server and SQLite file, or the PostgreSQL."""
    env = {"EXAMPLE_DATABASE": str(run_dir / "db.sqlite3")}
    if backend.postgres:
        env.update({f"EXAMPLE_POSTGRES_{key}": value for key, value in postgres.items()})
        env["EXAMPLE_POSTGRES_DATABASE"] = postgres["NAME"]
    with ExitStack() as stack:
        if backend.redis:
            env["EXAMPLE_REDIS_URL"] = stack.enter_context(redis_server(run_dir))
        yield env


def run_once(
    backend: Backend, variant: str, round_number: int, env: dict[str, str], argv: list[str],
    run_dir: Path, task_seconds: float,
) -> Run:  # fmt: skip
    effects = run_dir / "effects.txt"
    enqueue(backend, env, "record_line", str(effects), "first")
    log = run_dir / f"worker-{variant}.log"
    began = time.monotonic()
    process = start(argv, env, log)
    seen = []
    try:
        first = wait_for_line(effects, "first", process, FIRST_TASK_TIMEOUT) - began
        enqueue(backend, env, "record_line_slowly", str(effects), "slow", task_seconds)
        wait_for_line(effects, "slow started", process, FIRST_TASK_TIMEOUT)
        seen = descendants(process.pid)
        stopped = terminate(process, seen, timeout=STOP_TIMEOUT)
        exited_at = time.time()
    except BenchError as error:
        raise BenchError(f"{backend.name} {variant}: {error}\n{tail(log)}") from error
    finally:
        if process.poll() is None or group_members(process.pid):
            kill_tree(process, seen)
    # The task's end line is the file's last write: its time is the file's mtime.
    finished = lines_of(effects)[-1:] == ["slow"]
    after = exited_at - effects.stat().st_mtime if finished and stopped.seconds else None
    if not finished:
        print(f"warning: {backend.name} {variant}: the slow task did not finish", file=sys.stderr)
    return Run(variant, round_number, first, stopped.seconds, after, stopped.status,
               stopped.left_names)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--task-seconds", type=float, default=2.0)
    parser.add_argument("--only", action="append", choices=NAMES, metavar="NAME")
    options = parser.parse_args()
    chosen = [b for b in BACKENDS if not options.only or b.name in options.only]
    chosen = [b for b in chosen if importlib.util.find_spec(b.module) is not None]
    results: dict[str, list[Run]] = {}
    lines: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-tasks-") as folder, ExitStack() as stack:
        postgres: dict[str, str] = {}
        if any(b.postgres for b in chosen):
            from tests.brokers import postgres_server

            postgres = stack.enter_context(postgres_server())
        for backend in chosen:
            settings_module(Path(folder), backend)
            base = environment(
                {
                    "DJANGO_SETTINGS_MODULE": "bench_tasks_settings",
                    "PYTHONPATH": f"{folder}:{REPO / 'src'}",
                    "PYTHONUNBUFFERED": "1",
                },
                drop=FOREIGN_ENV,
                drop_prefixes=FOREIGN_ENV_PREFIXES,
            )
            runs: list[Run] = []
            for round_number, variant in alternating(options.rounds):
                run_dir = Path(tempfile.mkdtemp(dir=folder))
                with services(backend, run_dir, postgres) as extra:
                    env = {**base, **extra}
                    if backend.migrate:
                        failure = start_and_wait(
                            [sys.executable, "manage.py", "migrate", "--verbosity=0"], env
                        )
                        if failure:
                            raise BenchError(f"{backend.name}: migrate failed: {failure}")
                    a = [sys.executable, "manage.py", "prodserver", "tasks"]
                    b = dry_run_line(a, env)
                    b = [sys.executable if b[0] == "python" else venv_script(b[0]), *b[1:]]
                    lines[backend.name] = (" ".join(a[1:]), " ".join(["python", *b[1:]]))
                    argv = a if variant == "A" else b
                    runs.append(
                        run_once(
                            backend,
                            variant,
                            round_number,
                            env,
                            argv,
                            run_dir,
                            options.task_seconds,
                        )
                    )
                    print(backend.name, runs[-1], flush=True)
            results[backend.name] = runs
    report(results, lines, options)


METRICS = (
    Metric("first_task_s", "start to first task", "s", 2),
    Metric("stop_s", "SIGTERM to exit, a task running", "s", 2),
    Metric("after_task_s", "task's end to exit", "s", 2),
)


def report(results: dict[str, list[Run]], lines: dict[str, tuple[str, str]], options) -> None:
    rounds, seconds = options.rounds, options.task_seconds
    head = report_head(
        "Django's task framework: TasksWorker (A) vs each worker's own command (B)",
        f"{rounds} rounds per backend, A B alternating; the task in flight at SIGTERM sleeps "
        f"{seconds:g} s.",
        VERSIONED,
        f"- redis-server: {redis_version()}",
        optional=OPTIONAL_VERSIONS,
    )
    summary_rows = []
    for name, runs in results.items():
        cells = []
        for metric in METRICS:
            summary = summarize(runs, metric)
            cells += (
                [metric.format(summary.median_a), metric.format(summary.median_b),
                 ratio(summary.ratio_median)]
                if summary else ["n/a", "n/a", ""]
            )  # fmt: skip
        statuses = sorted({str(run.status) for run in runs})
        left = sum(len(run.left) for run in runs)
        summary_rows.append(f"{name} | " + " | ".join(cells) + f" | {'/'.join(statuses)} | {left}")
    text = [
        *head,
        "",
        'Set-up: the example project\'s settings with `TASKS["default"]` set to the backend '
        "(a settings module of its own); cwd `example/`; a fresh SQLite file (migrated "
        "before) and, for the backends on Redis, a fresh `redis-server` per run; one "
        "PostgreSQL cluster (initdb in a temporary folder) for procrastinate's runs. The "
        "tasks are the example's `jobs/database_tasks.py`, defined with Django's `@task` "
        "(procrastinate: `jobs/procrastinate_tasks.py`). First task: one task enqueued "
        "before the worker starts, from Popen until its line is in a file (polled every "
        "10 ms). Stop: a task that records its start, sleeps, then records its end is "
        "enqueued; once it has started, SIGTERM to the main process, until it exits; "
        "\"task's end to exit\" is the part after the task's end line was written.",
        "",
        "## Summary",
        "",
        "Medians of A and B, and A/B (median of the ratios taken round by round).",
        "",
        *markdown_table(
            "backend | first task A (s) | B (s) | A/B | stop A (s) | B (s) | A/B | "
            "task's end to exit A (s) | B (s) | A/B | exit status | processes left",
            "lrrrrrrrrrll",
            summary_rows,
        ),
        "",
        "## The commands",
        "",
        *markdown_table(
            "backend | A | B",
            "lll",
            [f"{name} | `{a}` | `{b}`" for name, (a, b) in lines.items()],
        ),
    ]
    for name, runs in results.items():
        text += ["", f"## {name}", "", *ab_table(runs, METRICS, "TasksWorker", "own command")]
    slow = [
        f"{name} {run.variant} round {run.round}: {run.stop_s:.1f} s"
        for name, runs in results.items()
        for run in runs
        if run.stop_s is not None and run.stop_s > SLOW_STOP
    ]
    text += ["", "Stops slower than the task plus a few seconds: " + ("; ".join(slow) or "none.")]
    only = "-" + "-".join(name.replace(" ", "-") for name in options.only) if options.only else ""
    publish("\n".join(text) + "\n", RESULTS / f"tasks-vs-command{only}.md")


if __name__ == "__main__":
    main()
