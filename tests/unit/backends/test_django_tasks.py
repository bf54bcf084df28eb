"""The django-tasks backend's plan: db_worker's own options, checked by its own parser."""

from __future__ import annotations

import sys
from functools import partial

import pytest
from django.conf import settings
from django.test import override_settings

from django_prodserver.backends.django_tasks import DjangoTasksWorker, builtin_tasks
from django_prodserver.errors import MissingPackageError, OptionError, ProdserverError
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

pytest.importorskip("django_tasks_db")

PATH = "django_prodserver.backends.django_tasks.DjangoTasksWorker"
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
IMMEDIATE = (
    "django.tasks.backends.immediate.ImmediateBackend"
    if builtin_tasks()
    else "django_tasks.backends.immediate.ImmediateBackend"
)


def worker(args=None, app=None):
    return DjangoTasksWorker(ProcessSpec("tasks", PATH, args or {}, app=app))


line = partial(support.line, backend=DjangoTasksWorker, name="tasks")


def test_the_documented_line():
    assert line({"queue_name": "emails", "interval": 5}) == (
        "python manage.py db_worker --queue-name=emails --interval=5"
    )


def test_every_option_of_db_workers_parser_is_known():
    table = worker().option_table()
    for action in worker().parser()._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert flag in table.find(flag, "tasks")[0].flags + (
                    table.find(flag, "tasks")[0].negative_flags
                )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"queue-name": "a,b"}, "--queue-name=a,b"),
        ({"queue_name": "*", "exclude_queues": "slow"}, "'--queue-name=*' --exclude-queues=slow"),
        ({"max_tasks": "1"}, "--max-tasks=1"),
        ({"max-tasks": 100}, "--max-tasks=100"),
        ({"interval": "1"}, "--interval=1"),
        ({"batch": True}, "--batch"),
        ({"batch": False}, ""),
        ({"reload": False}, "--no-reload"),
        ({"no_startup_delay": True}, "--no-startup-delay"),
        ({"backend": "default"}, "--backend=default"),
        ({"worker_id": "w1"}, "--worker-id=w1"),
        ({"verbosity": 2}, "--verbosity=2"),
        (["--queue-name", "emails", "--batch"], "--queue-name=emails --batch"),
    ],
)
def test_options_and_flags(args, expected):
    assert line(args) == f"python manage.py db_worker {expected}".rstrip()


def test_an_option_typed_after_the_name_replaces_the_configured_one():
    assert line({"queue_name": "emails"}, ["--queue-name", "reports", "--batch"]) == (
        "python manage.py db_worker --queue-name=reports --batch"
    )


@override_settings(DEBUG=True)
def test_with_debug_on_the_worker_does_not_reload():
    assert line() == "python manage.py db_worker --no-reload"
    assert line({"reload": False}) == "python manage.py db_worker --no-reload"


def test_reload_is_refused():
    with pytest.raises(OptionError, match="`reload` is for development"):
        line({"reload": True})


@pytest.mark.parametrize("name", ["processes", "threads", "concurrency", "workers"])
def test_concurrency_names_explain_one_task_at_a_time(name):
    with pytest.raises(OptionError) as error:
        line({name: 4})
    assert str(error.value) == (
        f"Process 'tasks': for db_worker, there is no option `{name}`: db_worker runs one task "
        f"at a time; for more at once, run several worker processes (each its own "
        f"`prodserver NAME`, or replicas of it)."
    )


def test_an_unknown_name_gets_the_nearest_ones():
    with pytest.raises(OptionError, match=r"has no option `interva` \(did you mean `interval`\?\)"):
        line({"interva": 2})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"max_tasks": 0}, "argument --max-tasks: Must be greater than zero"),
        ({"interval": -1}, "argument --interval: Must be zero or greater"),
        ({"interval": "soon"}, "argument --interval: invalid valid_interval value: 'soon'"),
    ],
)
def test_db_workers_parser_checks_the_values(args, message):
    with pytest.raises(OptionError) as error:
        line(args)
    assert str(error.value) == (
        f"Process 'tasks': `manage.py db_worker` rejects the options: {message}."
    )


def test_app_is_refused():
    with pytest.raises(OptionError, match="APP is for the Celery backends"):
        worker(app="myproject.celery.app").plan()


def test_the_app_must_be_installed():
    installed = [app for app in settings.INSTALLED_APPS if app != "django_tasks_db"]
    with override_settings(INSTALLED_APPS=installed), pytest.raises(ProdserverError) as error:
        line()
    assert "needs 'django_tasks_db' in INSTALLED_APPS" in str(error.value)
    assert str(error.value).endswith('Add to your settings: INSTALLED_APPS += ["django_tasks_db"]')


@pytest.mark.skipif(builtin_tasks(), reason="Django 6 has django.tasks: no backport needed")
def test_before_django_6_the_backport_app_must_be_installed_too():
    installed = [app for app in settings.INSTALLED_APPS if app != "django_tasks"]
    with override_settings(INSTALLED_APPS=installed), pytest.raises(ProdserverError) as error:
        line()
    assert "needs 'django_tasks' in INSTALLED_APPS" in str(error.value)


@pytest.mark.skipif(builtin_tasks(), reason="Django 6 has django.tasks: no backport needed")
def test_before_django_6_a_missing_backport_gives_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "django_tasks", None)
    with pytest.raises(MissingPackageError) as error:
        line()
    assert "needs django-tasks (the backport of django.tasks" in str(error.value)
    assert str(error.value).endswith("pip install 'django-prodserver[django-tasks]'")


@override_settings(TASKS={"default": {"BACKEND": IMMEDIATE}})
def test_the_backend_must_be_a_database_backend():
    with pytest.raises(ProdserverError) as error:
        line()
    assert str(error.value) == (
        "Process 'tasks': db_worker runs the tasks a database backend stores, but "
        f"TASKS['default'] is '{IMMEDIATE}'.\n"
        'Set: TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}'
    )


@override_settings(TASKS=DATABASE)
def test_the_named_backend_must_be_configured():
    with pytest.raises(ProdserverError) as error:
        line({"backend": "emails"})
    assert str(error.value) == (
        "Process 'tasks': db_worker runs the tasks of the TASKS backend 'emails', which is not "
        "configured (TASKS has 'default').\n"
        'Add it: TASKS = {"emails": {"BACKEND": "django_tasks_db.DatabaseBackend"}}, '
        "or name another with the `backend` option."
    )


@override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.database.DatabaseBackend"}})
def test_the_old_database_backend_says_where_it_moved():
    with pytest.raises(ProdserverError, match="moved its database backend to django-tasks-db"):
        line()


def test_a_missing_package_gives_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "django_tasks_db", None)
    with pytest.raises(MissingPackageError) as error:
        line()
    assert str(error.value) == (
        "Process 'tasks' needs django-tasks-db, which is not installed.\n"
        "Install it with: pip install 'django-prodserver[django-tasks]'"
    )
