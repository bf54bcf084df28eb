"""django-prodserver 3.0's command semantics: `server` and `worker` start their own kind."""

from __future__ import annotations

import pytest

from tests.support import write_project

GUNICORN = {
    "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
    "ARGS": {"bind": "127.0.0.1:8000"},
}
TASKS = {"BACKEND": "django_prodserver.backends.django_tasks.DjangoTasksWorker"}
PROCESSES = {"tasks": TASKS, "web": GUNICORN}


@pytest.fixture
def made(tmp_path):
    return write_project(tmp_path, PROCESSES)


def test_server_without_a_name_starts_the_first_web_process(made):
    result = made.manage("server", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("gunicorn --bind=127.0.0.1:8000")


def test_worker_without_a_name_starts_the_first_worker(made):
    result = made.manage("worker", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("python manage.py db_worker")


def test_prodserver_without_a_name_starts_the_first_of_any_kind(made):
    result = made.manage("prodserver", "--dry-run")
    assert result.stdout.startswith("python manage.py db_worker")
    assert "starting 'tasks', the first configured (of tasks, web)" in result.stderr


def test_server_refuses_a_worker_naming_the_right_command(made):
    result = made.manage("server", "tasks", "--dry-run")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        "Process 'tasks' is a worker process (db_worker), and `manage.py server` starts web "
        "processes only. Start it with `manage.py worker tasks` or `manage.py prodserver tasks`."
    ) in result.stderr


def test_worker_refuses_a_web_process(made):
    result = made.manage("worker", "web", "--dry-run")
    assert result.returncode == 1
    assert "Start it with `manage.py server web`" in result.stderr


def test_list_of_a_setting_that_is_not_a_dict_is_an_error(tmp_path):
    made = write_project(tmp_path, "[('web', {})]")
    result = made.manage("prodserver", "--list")
    assert result.returncode == 1
    assert "PRODUCTION_PROCESSES must be a dict of process name to definition, got list" in (
        result.stderr
    )


def test_list_with_a_broken_process_exits_non_zero(tmp_path):
    made = write_project(tmp_path, {"web": GUNICORN, "broken": {"ARGS": {}}})
    result = made.manage("prodserver", "--list")
    assert result.returncode == 1
    assert "error: Process 'broken': BACKEND is missing" in result.stdout
    assert "broken: cannot start as configured" in result.stderr
