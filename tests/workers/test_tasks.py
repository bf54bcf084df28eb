"""Django's task framework through one TasksWorker definition, with each task backend's worker.

The tasks are defined once, with Django's `@task`, in the example's `jobs/database_tasks.py`,
and enqueued with `.enqueue()` from a process of the project; the worker that TasksWorker
starts for `TASKS["default"]` runs them. Each worker then gets SIGTERM while a task runs: the
task finishes, and the worker exits with nothing left behind. The Redis-based backends use a
redis-server of the test's own.
"""

from __future__ import annotations

import importlib.util
import signal
from dataclasses import dataclass, field
from typing import Any

import django
import pytest

from tests.workers.effects import lines_of, wait_for_lines

pytestmark = pytest.mark.worker

TASKS_WORKER = "django_prodserver.backends.tasks.TasksWorker"
SLOW_TASK_SECONDS = 3
STOP_BOUND = SLOW_TASK_SECONDS + 20
DJANGO_6 = django.VERSION >= (6, 0)


@dataclass(frozen=True)
class TaskBackend:
    """A task backend of the table, with what the example project needs to run it."""

    name: str
    packages: tuple[str, ...]
    # Python source added to the project's settings (REDIS_URL is the test's redis-server).
    settings: str
    args: dict[str, Any] = field(default_factory=dict)
    migrate: bool = False
    redis: bool = False
    django_6_only: bool = False

    def skip_unless_installed(self) -> None:
        if self.django_6_only and not DJANGO_6:
            pytest.skip(f"{self.name} needs Django 6")
        if not DJANGO_6 and importlib.util.find_spec("django_tasks") is None:
            pytest.skip("Django's task framework: Django 6, or the django-tasks backport")
        for package in self.packages:
            if importlib.util.find_spec(package) is None:
                pytest.skip(f"{package} is not installed")


BACKENDS = [
    TaskBackend(
        "db_worker",
        ("django_tasks_db",),
        'TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}',
        {"interval": 0.2, "no_startup_delay": True},
        migrate=True,
    ),
    TaskBackend(
        "concurrent_worker",
        ("django_tasks_concurrent",),
        'TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}',
        {"worker": "concurrent_worker", "interval": 0.2},
        migrate=True,
        django_6_only=True,
    ),
    TaskBackend(
        "rqworker",
        ("django_tasks_rq",),
        'TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}',
        redis=True,
    ),
    TaskBackend(
        "run_redis_tasks",
        ("django_tasks_redis",),
        'TASKS = {"default": {"BACKEND": "django_tasks_redis.RedisTaskBackend", '
        '"OPTIONS": {"REDIS_URL": REDIS_URL, "REDIS_BLOCK_TIMEOUT": 500}}}',
        redis=True,
        django_6_only=True,
    ),
    TaskBackend(
        "run_huey",
        ("huey",),
        'TASKS = {"default": {"BACKEND": "huey.contrib.djhuey.tasks_backend.HueyBackend"}}',
        {"workers": 2},
        redis=True,
    ),
    TaskBackend(
        "celery worker",
        ("django_tasks_celery",),
        'TASKS = {"default": {"BACKEND": "django_tasks_celery.CeleryBackend", '
        '"OPTIONS": {"CELERY_APP": "exampleproject.celery.app"}}}\n'
        # The worker registers a task of the framework when it imports the task's module.
        'CELERY_IMPORTS = ["jobs.database_tasks"]',
        {"concurrency": 2, "loglevel": "info"},
        redis=True,
        django_6_only=True,
    ),
]


@pytest.fixture(params=BACKENDS, ids=[backend.name for backend in BACKENDS])
def task_backend(request):
    backend: TaskBackend = request.param
    backend.skip_unless_installed()
    return backend


@pytest.fixture
def project_of(make_project, tmp_path_factory):
    """The example project with the task backend as TASKS['default'], and `processes`."""
    from tests.brokers import redis_server

    servers = []

    def make(backend: TaskBackend, processes: Any):
        project = make_project(processes, extra=backend.settings)
        env = {}
        if backend.redis:
            server = redis_server(tmp_path_factory.mktemp("redis"))
            servers.append(server)
            env["EXAMPLE_REDIS_URL"] = server.__enter__()
        if backend.migrate:
            result = project.manage("migrate", "--verbosity=0", env=env)
            assert result.returncode == 0, result.stderr
        return project, env

    yield make
    for server in servers:
        server.__exit__(None, None, None)


def enqueue(project, env, task, *args):
    """`.enqueue()` a task of jobs.database_tasks from a process of the project."""
    arguments = ", ".join(repr(arg) for arg in args)
    call = f"database_tasks.{task}.enqueue({arguments})"
    project.shell(f"from jobs import database_tasks\n{call}", env)


def test_one_definition_runs_each_workers_tasks_and_stops_warm(
    task_backend, project_of, started, tmp_path
):
    project, env = project_of(
        task_backend, {"tasks": {"BACKEND": TASKS_WORKER, "ARGS": task_backend.args}}
    )
    effects = tmp_path / "effects.txt"
    worker = project.start("prodserver", "tasks", env=env)
    started.append(worker)

    enqueue(project, env, "record_line", str(effects), "first")
    wait_for_lines(effects, ["first"], worker, timeout=60)
    enqueue(project, env, "record_line_slowly", str(effects), "slow", SLOW_TASK_SECONDS)
    wait_for_lines(effects, ["slow started"], worker, timeout=60)
    code, seconds = worker.stop(signal.SIGTERM)

    print(f"{task_backend.name} stopped {seconds:.2f} s after SIGTERM, a task running")
    assert code == 0, worker.output
    assert seconds < STOP_BOUND, worker.output
    assert worker.wait_for_no_process_left() == [], worker.output
    assert lines_of(effects) == ["first", "slow started", "slow"], worker.output
    assert "Traceback" not in worker.output


def test_worker_with_nothing_configured_runs_the_default_alias(project_of, started, tmp_path):
    backend = next(backend for backend in BACKENDS if backend.name == "db_worker")
    backend.skip_unless_installed()
    project, env = project_of(backend, "{}")
    effects = tmp_path / "effects.txt"
    worker = project.start("worker", env=env)
    started.append(worker)

    enqueue(project, env, "record_line", str(effects), "zero configuration")
    wait_for_lines(effects, ["zero configuration"], worker, timeout=60)
    code, _ = worker.stop(signal.SIGTERM)

    assert code == 0, worker.output
    assert worker.output.startswith(
        "No worker process in PRODUCTION_PROCESSES: running the worker of TASKS['default'] "
        "(django_tasks_db.DatabaseBackend) as 'tasks'"
    ), worker.output
