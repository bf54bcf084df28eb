"""TasksWorker: the worker of a TASKS alias's backend, its options from the alias's settings."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import textwrap

import pytest
from django.conf import settings
from django.test import override_settings

from django_prodserver.backends.tasks import TasksWorker
from django_prodserver.checks import messages_in_depth
from django_prodserver.choosing import first_process
from django_prodserver.errors import MissingPackageError, ProdserverError
from django_prodserver.listing import process_table
from django_prodserver.loading import load_backend
from django_prodserver.processes import ProcessSpec, read_configuration
from django_prodserver.task_workers import ENTRY_POINT_GROUP, TASKS_WORKER
from tests.unit.backends.support import install_distribution

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("django.tasks") is None, reason="Django 6's task framework"
)

DATABASE = "django_tasks_db.DatabaseBackend"
RQ = "django_tasks_rq.RQBackend"
REDIS = "django_tasks_redis.RedisTaskBackend"
HUEY = "huey.contrib.djhuey.tasks_backend.HueyBackend"
CELERY = "django_tasks_celery.CeleryBackend"
IMMEDIATE = "django.tasks.backends.immediate.ImmediateBackend"
PACKAGES = {
    DATABASE: "django_tasks_db",
    RQ: "django_tasks_rq",
    REDIS: "django_tasks_redis",
    HUEY: "huey",
    CELERY: "django_tasks_celery",
    "concurrent": "django_tasks_concurrent",
}


def needs(package: str) -> None:
    if importlib.util.find_spec(PACKAGES.get(package, package)) is None:
        pytest.skip(f"{package} is not installed")


def worker(args=None, name="tasks", **spec):
    return load_backend(ProcessSpec(name, TASKS_WORKER, {} if args is None else args, **spec))


def line(tasks, args=None, **settings_):
    with override_settings(TASKS=tasks, **settings_):
        return worker(args).plan().command_line()


@pytest.mark.parametrize(
    ("backend", "entry", "args", "expected"),
    [
        (DATABASE, {}, {}, "python manage.py db_worker"),
        (
            DATABASE,
            {"QUEUES": ["default", "emails"]},
            {"interval": 2},
            "python manage.py db_worker --queue-name=default,emails --interval=2",
        ),
        (DATABASE, {"QUEUES": []}, {}, "python manage.py db_worker '--queue-name=*'"),
        (DATABASE, {}, {"queue_name": "emails"}, "python manage.py db_worker --queue-name=emails"),
        (RQ, {}, {}, "python manage.py rqworker --job-class=django_tasks_rq.Job"),
        (
            RQ,
            {"QUEUES": ["high", "default"]},
            {"name": "one"},
            "python manage.py rqworker --job-class=django_tasks_rq.Job --name=one high default",
        ),
        (HUEY, {}, {"workers": 2}, "python manage.py run_huey --graceful-signal=TERM --workers=2"),
    ],
)
def test_the_worker_of_the_default_alias(backend, entry, args, expected):
    needs(backend)
    queues = {
        "high": {"URL": "redis://localhost:6379/0"},
        "default": {"URL": "redis://localhost:6379/0"},
    }
    assert line({"default": {"BACKEND": backend, **entry}}, args, RQ_QUEUES=queues) == expected


def test_another_alias_is_passed_to_the_workers_own_option():
    needs(DATABASE)
    tasks = {"default": {"BACKEND": IMMEDIATE}, "emails": {"BACKEND": DATABASE}}
    assert line(tasks, {"backend": "emails"}) == "python manage.py db_worker --backend=emails"


def test_redis_runs_continuously_on_its_alias():
    needs(REDIS)
    tasks = {"default": {"BACKEND": IMMEDIATE}, "redis": {"BACKEND": REDIS}}
    assert line(tasks, {"backend": "redis"}) == (
        "python manage.py run_redis_tasks --continuous --backend=redis"
    )


def test_the_database_has_a_second_worker_by_name():
    needs(DATABASE)
    needs("concurrent")
    tasks = {"default": {"BACKEND": DATABASE}}
    args = {"worker": "concurrent_worker", "concurrency": 5}
    assert line(tasks, args) == ("python manage.py concurrent_worker --concurrency=5")
    with override_settings(TASKS=tasks), pytest.raises(ProdserverError) as error:
        worker({"worker": "concurent_worker"}).plan()
    assert str(error.value) == (
        "Process 'tasks': `worker` is 'concurent_worker', which does not run the tasks of "
        "TASKS['default'] ('django_tasks_db.DatabaseBackend') (did you mean "
        "'concurrent_worker'?); its workers are 'db_worker', 'concurrent_worker'."
    )


def test_celery_takes_its_app_from_the_alias():
    needs(CELERY)
    tasks = {"default": {"BACKEND": CELERY, "OPTIONS": {"CELERY_APP": "exampleproject.celery.app"}}}
    assert line(tasks, {"concurrency": 2}) == (
        "celery -A exampleproject.celery.app worker --concurrency=2"
    )


def test_a_subclass_of_a_known_backend_runs_its_worker():
    needs(DATABASE)
    tasks = {"default": {"BACKEND": "tests.unit.backends.task_backends.OwnDatabaseBackend"}}
    assert line(tasks) == "python manage.py db_worker"


@pytest.mark.parametrize(
    ("backend", "how"),
    [
        (IMMEDIATE, "runs each task at once, in place"),
        ("django.tasks.backends.dummy.DummyBackend", "stores the tasks and never runs them"),
        ("django_tasks_local.ThreadPoolBackend", "runs the tasks in threads of that process"),
    ],
)
def test_an_in_process_backend_has_no_worker(backend, how):
    with override_settings(TASKS={"default": {"BACKEND": backend}}):
        backend_object = worker()
        assert isinstance(backend_object, TasksWorker)  # loads: `migrate` does not fail on it
        with pytest.raises(ProdserverError) as error:
            backend_object.plan()
    assert str(error.value) == (
        f"Process 'tasks': TASKS['default'] is '{backend}', which {how}: its tasks run in the "
        f"process that enqueues them, so there is no worker to start.\n"
        f"Point TASKS['default'] at a task backend with a worker (such as "
        f'"django_tasks_db.DatabaseBackend"), or remove this process.'
    )


def test_without_tasks_the_default_is_named_as_such():
    with override_settings():
        del settings.TASKS
        with pytest.raises(ProdserverError) as error:
            worker().plan()
    assert "TASKS['default'] is 'django.tasks.backends.immediate.ImmediateBackend' (TASKS " in (
        str(error.value)
    )


def test_an_unknown_task_backend_says_how_to_run_its_worker():
    tasks = {"default": {"BACKEND": "tests.unit.backends.task_backends.UnknownBackend"}}
    with override_settings(TASKS=tasks), pytest.raises(ProdserverError) as error:
        worker().plan()
    assert str(error.value) == (
        "Process 'tasks': TASKS['default'] is 'tests.unit.backends.task_backends."
        "UnknownBackend', a task backend whose worker django-prodserver does not know.\n"
        "Run its worker with a backend of its own in PRODUCTION_PROCESSES (a "
        "ManagementCommandBackend subclass naming its command: see 'Writing a backend'), or "
        f"register one for it under the entry point group '{ENTRY_POINT_GROUP}'."
    )


def test_an_unknown_alias_is_named_with_the_configured_ones():
    tasks = {"default": {"BACKEND": DATABASE}}
    with override_settings(TASKS=tasks), pytest.raises(ProdserverError) as error:
        worker({"backend": "defualt"}).plan()
    assert str(error.value) == (
        "Process 'tasks': the tasks of TASKS['defualt'] cannot run: TASKS has no alias "
        "'defualt' (did you mean 'default'?) (it has 'default').\n"
        'Name one of them with "ARGS": {"backend": "..."}, or add it to TASKS.'
    )


def test_a_backend_that_moved_is_named_with_its_new_path():
    tasks = {"default": {"BACKEND": "django_tasks.backends.rq.RQBackend"}}
    with override_settings(TASKS=tasks), pytest.raises(ProdserverError) as error:
        worker().plan()
    assert str(error.value).startswith(
        "Process 'tasks': TASKS['default'] BACKEND 'django_tasks.backends.rq.RQBackend' cannot "
        "be imported ("
    )
    assert str(error.value).endswith(
        "django-tasks 0.12 moved its RQ backend to the django-tasks-rq package: use "
        '"django_tasks_rq.RQBackend".'
    )


def test_args_as_a_list_are_refused():
    tasks = {"default": {"BACKEND": DATABASE}}
    with override_settings(TASKS=tasks), pytest.raises(ProdserverError) as error:
        worker(("--interval=2",)).plan()
    assert str(error.value) == (
        "Process 'tasks': TasksWorker takes ARGS as a dict (the worker's options by name, and "
        "\"backend\", the TASKS alias), got a list: ['--interval=2']."
    )


def test_the_loaded_backend_is_the_worker_and_says_where_it_came_from():
    needs(RQ)
    with override_settings(TASKS={"default": {"BACKEND": RQ}}):
        backend = worker()
    assert (backend.kind, backend.server) == ("worker", "django-rq")
    assert backend.origin == "TASKS['default'] is django_tasks_rq.RQBackend: rqworker"


def test_list_names_the_worker_it_resolved():
    needs(DATABASE)
    processes = {"tasks": {"BACKEND": TASKS_WORKER}}
    with override_settings(
        TASKS={"default": {"BACKEND": DATABASE}}, PRODUCTION_PROCESSES=processes
    ):
        [row] = process_table()
    assert row == (
        "tasks",
        "worker",
        f"{TASKS_WORKER} (TASKS['default'] is {DATABASE}: db_worker)",
        "python manage.py db_worker",
    )


def test_a_package_registers_the_worker_of_its_task_backend(tmp_path, monkeypatch):
    needs(DATABASE)
    (tmp_path / "othertasks.py").write_text(
        textwrap.dedent(
            """
            from django_tasks_db import DatabaseBackend
            from django_prodserver.backends.database_tasks import DatabaseTasksWorker

            class OtherBackend(DatabaseBackend):
                pass

            class OtherWorker(DatabaseTasksWorker):
                worker_name = "other_worker"
            """
        )
    )
    install_distribution(
        tmp_path,
        "othertasks",
        "1.2",
        f"[{ENTRY_POINT_GROUP}]\nothertasks.OtherBackend = othertasks:OtherWorker\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with override_settings(TASKS={"default": {"BACKEND": "othertasks.OtherBackend"}}):
        backend = worker()
        assert backend.plan().command_line() == "python manage.py db_worker"
    assert backend.origin == (
        "TASKS['default'] is othertasks.OtherBackend: other_worker, registered by othertasks 1.2 "
        f"(entry point group {ENTRY_POINT_GROUP})"
    )
    sys.modules.pop("othertasks", None)


def warnings_of(processes, tasks):
    with override_settings(PRODUCTION_PROCESSES=processes, TASKS=tasks):
        return [
            (message.id, message.msg, message.hint)
            for message in messages_in_depth()
            if message.id == "prodserver.W005"
        ]


def test_check_warns_of_an_alias_whose_tasks_no_process_runs():
    needs(DATABASE)
    needs(RQ)
    tasks = {"default": {"BACKEND": DATABASE}, "rq": {"BACKEND": RQ}}
    plain_rq = {"BACKEND": "django_prodserver.backends.rq.RQWorker"}
    assert warnings_of({"tasks": {"BACKEND": TASKS_WORKER}, "rq": plain_rq}, tasks) == [
        (
            "prodserver.W005",
            "TASKS['rq'] is 'django_tasks_rq.RQBackend', whose tasks wait for a worker, and no "
            "process of PRODUCTION_PROCESSES runs them.",
            f'Add one: "tasks": {{"BACKEND": "{TASKS_WORKER}", "ARGS": {{"backend": "rq"}}}}.',
        )
    ]
    rq = {**plain_rq, "ARGS": {"job_class": "django_tasks_rq.Job"}}
    assert warnings_of({"tasks": {"BACKEND": TASKS_WORKER}, "rq": rq}, tasks) == []


def test_check_leaves_the_default_alias_to_the_zero_configuration_worker():
    needs(DATABASE)
    tasks = {"default": {"BACKEND": DATABASE}}
    web = {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"}
    assert warnings_of({"web": web}, tasks) == []
    other_worker = {"BACKEND": "django_prodserver.backends.huey.HueyConsumer"}
    [(_, message, _)] = warnings_of({"web": web, "huey": other_worker}, tasks)
    assert message.startswith("TASKS['default'] is 'django_tasks_db.DatabaseBackend'")


def test_worker_with_no_worker_configured_runs_the_default_alias():
    web = {"web": {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"}}
    with override_settings(PRODUCTION_PROCESSES=web, TASKS={"default": {"BACKEND": DATABASE}}):
        assert first_process(read_configuration(), "worker") == ProcessSpec("tasks", TASKS_WORKER)
    with override_settings(PRODUCTION_PROCESSES=web):
        del settings.TASKS
        with pytest.raises(ProdserverError) as error:
            first_process(read_configuration(), "worker")
    assert str(error.value).startswith("No worker process is configured")


def test_a_missing_package_is_named_with_its_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "django_tasks_redis", None)
    tasks = {"default": {"BACKEND": REDIS}}
    with override_settings(TASKS=tasks), pytest.raises(MissingPackageError) as error:
        worker().plan()
    assert str(error.value) == (
        "Process 'tasks' needs django-tasks-redis, which is not installed.\n"
        "Install it with: pip install 'django-prodserver[django-tasks-redis]'"
    )


def test_rq_names_django_tasks_rq_when_only_django_rq_is_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "django_tasks_rq", None)
    tasks = {"default": {"BACKEND": RQ}}
    queues = {"default": {"URL": "redis://127.0.0.1:6379/0"}}
    with (
        override_settings(TASKS=tasks, RQ_QUEUES=queues),
        pytest.raises(MissingPackageError) as error,
    ):
        worker().plan()
    assert str(error.value) == (
        "Process 'tasks' needs django-tasks-rq, which is not installed.\n"
        "Install it with: pip install 'django-prodserver[django-tasks-rq]'"
    )
