"""django-tasks through `prodserver`: the db_worker of django-tasks-db on the test's SQLite.

db_worker stops gracefully on SIGTERM and SIGINT: the task it is running finishes and is
saved as SUCCESSFUL, then the worker exits 0. Tasks it has not claimed stay READY in the
database for the next worker.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.workers.effects import lines_of, wait_for_lines

pytest.importorskip("django_tasks_db")

WORKER = "django_prodserver.backends.django_tasks.DjangoTasksWorker"
SLOW_TASK_SECONDS = 3
STOP_BOUND = SLOW_TASK_SECONDS + 20

pytestmark = pytest.mark.worker


@pytest.fixture
def project(make_project):
    project = make_project(
        {"tasks": {"BACKEND": WORKER, "ARGS": {"interval": 0.2, "no_startup_delay": True}}}
    )
    result = project.manage("migrate", "--verbosity=0")
    assert result.returncode == 0, result.stderr
    return project


def test_missing_tables_are_named_before_the_start(make_project):
    project = make_project({"tasks": {"BACKEND": WORKER}})  # not migrated
    result = project.manage("prodserver", "tasks")
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(
        "CommandError: Process 'tasks': db_worker keeps its tasks in the database 'default', "
        "which lacks the tables of django_tasks_db: migrations django_tasks_database.0001_initial"
    )
    assert result.stderr.endswith("are not applied.\nApply them first: python manage.py migrate\n")


def test_a_database_that_does_not_answer_is_named_before_the_start(make_project, tmp_path):
    project = make_project({"tasks": {"BACKEND": WORKER}})
    nowhere = {"EXAMPLE_DATABASE": str(tmp_path / "no-such-folder" / "db.sqlite3")}
    result = project.manage("prodserver", "tasks", env=nowhere)
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        "CommandError: Process 'tasks': db_worker keeps its tasks in the database 'default', "
        "which does not answer: unable to open database file\n"
    )


def enqueue(project, task, *args):
    """Enqueue a task of jobs.database_tasks from a process of the project; its id."""
    arguments = ", ".join(repr(arg) for arg in args)
    code = f"from jobs import database_tasks\nprint(database_tasks.{task}.enqueue({arguments}).id)"
    output = project.shell(code)
    return output.split()[-1]


def statuses(project):
    """Every task result in the database: {id: status}."""
    code = (
        "from django_tasks_db.models import DBTaskResult\n"
        "for r in DBTaskResult.objects.all(): print('task', r.id, r.status)"
    )
    output = project.shell(code)
    rows = [line.split() for line in output.splitlines()]
    return {row[1]: row[2] for row in rows if row[:1] == ["task"]}


def stop(worker, how):
    """SIGTERM to the worker's PID, or SIGINT to its whole group (Ctrl-C in a terminal)."""
    if how == "SIGTERM":
        return worker.stop(signal.SIGTERM)
    begun = time.monotonic()
    os.killpg(worker.popen.pid, signal.SIGINT)
    return worker.popen.wait(60), time.monotonic() - begun


def test_runs_a_task_and_stops_on_sigterm(project, started, tmp_path):
    effects = tmp_path / "effects.txt"
    worker = project.start("prodserver", "tasks")
    started.append(worker)
    task_id = enqueue(project, "record_line", str(effects), "db")

    wait_for_lines(effects, ["db"], worker)
    code, seconds = worker.stop(signal.SIGTERM)

    print(f"db_worker stopped {seconds:.2f} s after SIGTERM (idle)")
    assert code == 0, worker.output
    assert seconds < STOP_BOUND, worker.output
    assert worker.wait_for_no_process_left() == []
    assert statuses(project) == {task_id: "SUCCESSFUL"}
    assert "Traceback" not in worker.output


@pytest.mark.parametrize("stop_signal", ["SIGTERM", "SIGINT to the group"])
def test_a_stop_during_a_task_lets_it_finish_and_keeps_the_queued_one(
    project, started, tmp_path, stop_signal
):
    effects = tmp_path / "effects.txt"
    # Both queued before the worker starts, which takes them in order: enqueued while the slow
    # one ran, the second could come after its end on a loaded machine (a Django shell's start
    # outlasting the task), and be run before the stop.
    slow = enqueue(project, "record_line_slowly", str(effects), "slow", SLOW_TASK_SECONDS)
    queued = enqueue(project, "record_line", str(effects), "queued")
    worker = project.start("prodserver", "tasks")
    started.append(worker)
    wait_for_lines(effects, ["slow started"], worker)

    code, seconds = stop(worker, stop_signal)

    print(f"db_worker stopped {seconds:.2f} s after {stop_signal}, a task running")
    assert code == 0, worker.output
    assert seconds < STOP_BOUND, worker.output
    assert worker.wait_for_no_process_left() == []
    assert lines_of(effects) == ["slow started", "slow"], worker.output
    assert statuses(project) == {slow: "SUCCESSFUL", queued: "READY"}
    assert "shutting down gracefully" in worker.output

    # The task still queued is run by the next worker.
    worker = project.start("prodserver", "tasks")
    started.append(worker)
    wait_for_lines(effects, ["queued"], worker)
    assert worker.stop(signal.SIGTERM)[0] == 0
    assert statuses(project) == {slow: "SUCCESSFUL", queued: "SUCCESSFUL"}


def test_a_missing_app_stops_before_start(make_project):
    project = make_project(
        {"tasks": {"BACKEND": WORKER}},
        extra='INSTALLED_APPS = [a for a in INSTALLED_APPS if a != "django_tasks_db"]',
    )
    result = project.manage("prodserver", "tasks")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "needs 'django_tasks_db' in INSTALLED_APPS" in result.stderr
    assert 'INSTALLED_APPS += ["django_tasks_db"]' in result.stderr
