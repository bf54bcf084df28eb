"""Celery beat on django-celery-beat's DatabaseScheduler, cookiecutter-django's default.

django-celery-beat supports Django up to 6.0, so these run in the Django 5.2 environment
of scripts/test; elsewhere they are skipped.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.workers.effects import lines_of
from tests.workers.test_celery import APP, BEAT, STOP_BOUND, start, worker_definition

pytest.importorskip("django_celery_beat")

DATABASE_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
WITH_THE_APP = (
    f'INSTALLED_APPS += ["django_celery_beat"]\nCELERY_BEAT_SCHEDULER = {DATABASE_SCHEDULER!r}\n'
)

pytestmark = pytest.mark.worker


def beat_project(make_project, extra=WITH_THE_APP):
    processes = {
        "worker": worker_definition(concurrency=1),
        "beat": {"BACKEND": BEAT, "APP": APP, "ARGS": {"loglevel": "info"}},
    }
    return make_project(processes, extra)


def test_missing_tables_are_named_before_the_start(make_project):
    project = beat_project(make_project)  # not migrated

    result = project.manage("prodserver", "beat")

    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(
        f"CommandError: Process 'beat': celery beat's scheduler {DATABASE_SCHEDULER} keeps "
        f"its schedule in the database 'default', which lacks the tables of "
        f"django_celery_beat: migrations django_celery_beat.0001_initial, "
    )
    assert result.stderr.endswith("are not applied.\nApply them first: python manage.py migrate\n")


def test_the_app_missing_from_installed_apps_fails_check_and_start(make_project):
    extra = f"CELERY_BEAT_SCHEDULER = {DATABASE_SCHEDULER!r}\n"
    project = beat_project(make_project, extra)
    message = (
        f"Process 'beat': celery beat's scheduler {DATABASE_SCHEDULER} reads the schedule "
        f"from the tables of the 'django_celery_beat' app, which is not in INSTALLED_APPS.\n"
        f'Add to your settings: INSTALLED_APPS += ["django_celery_beat"], then run: '
        f"python manage.py migrate"
    )

    check = project.manage("check")
    start_result = project.manage("prodserver", "beat")

    assert check.returncode == 1
    assert f"(prodserver.E010) {message}" in check.stderr
    assert start_result.returncode == 1
    assert f"(prodserver.E010) {message}" in start_result.stderr
    assert "Traceback" not in check.stderr + start_result.stderr


def test_a_misspelt_database_scheduler_is_named_before_the_start(make_project):
    misspelt = "django_celery_beat.schedulers:DatabaseSchedular"
    project = make_project(
        {"beat": {"BACKEND": BEAT, "APP": APP, "ARGS": {"scheduler": misspelt}}},
        'INSTALLED_APPS += ["django_celery_beat"]\n',
    )

    result = project.manage("prodserver", "beat")

    assert result.returncode == 1, result.stderr
    assert (
        f"(prodserver.E008) Process 'beat': celery beat's scheduler {misspelt} cannot be "
        f"imported: AttributeError: module 'django_celery_beat.schedulers' has no attribute "
        f"'DatabaseSchedular'."
    ) in result.stderr


def test_the_scheduler_given_in_args_is_checked_too(make_project):
    processes = {
        "beat": {"BACKEND": BEAT, "APP": APP, "ARGS": ["-S", DATABASE_SCHEDULER]},
    }
    project = make_project(processes, 'INSTALLED_APPS += ["django_celery_beat"]\n')

    result = project.manage("prodserver", "beat")

    assert result.returncode == 1, result.stderr
    assert "lacks the tables of django_celery_beat" in result.stderr


def test_beat_sends_a_periodic_task_from_the_database(make_project, started, redis_url, tmp_path):
    project = beat_project(make_project)
    assert project.manage("migrate", "--verbosity=0").returncode == 0
    effects = tmp_path / "beat-effects.txt"
    project.shell(
        "import json\n"
        "from django_celery_beat.models import IntervalSchedule, PeriodicTask\n"
        "every_second = IntervalSchedule.objects.create(every=1, period='seconds')\n"
        "PeriodicTask.objects.create(name='record-from-the-database', interval=every_second,\n"
        "    task='jobs.celery_tasks.record_line',\n"
        f"    args=json.dumps([{str(effects)!r}, 'from the database']))\n"
    )
    worker = start(project, started, "worker", redis_url)
    beat = start(project, started, "beat", redis_url)

    deadline = time.monotonic() + 60
    while lines_of(effects).count("from the database") < 2 and time.monotonic() < deadline:
        assert beat.popen.poll() is None, beat.output
        time.sleep(0.1)
    assert lines_of(effects).count("from the database") >= 2, f"{beat.output}\n{worker.output}"
    assert "--schedule" not in project.manage("prodserver", "beat", "--dry-run").stdout

    code, seconds = beat.stop(signal.SIGTERM)
    assert code == 0, beat.output
    assert seconds < STOP_BOUND
    assert beat.wait_for_no_process_left() == []
    worker.stop(signal.SIGTERM)
