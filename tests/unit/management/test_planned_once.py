"""One command plans (and validates) each of its processes once, checks included.

`call_command` skips the checks unless told otherwise: these tests run them, as
`manage.py prodserver` does.
"""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_prodserver.backends import celery as celery_backends
from django_prodserver.backends.base import Plan
from django_prodserver.backends.gunicorn import GunicornServer
from django_prodserver.backends.waitress import WaitressServer

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
WAITRESS = "django_prodserver.backends.waitress.WaitressServer"
BEAT = "django_prodserver.backends.celery.CeleryBeat"
APP = "exampleproject.celery.app"


@pytest.fixture
def calls(monkeypatch):
    """How often each backend planned and validated, by process name."""
    counted: Counter[str] = Counter()
    for backend in (GunicornServer, WaitressServer):
        for method in ("plan", "validate"):
            original = getattr(backend, method)

            def counting(self, *args, _original=original, _method=method, **kwargs):
                counted[f"{self.name}.{_method}"] += 1
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(backend, method, counting)
    return counted


PROCESSES = {
    "web": {"BACKEND": GUNICORN, "ARGS": {"bind": "127.0.0.1:8001"}},
    "admin": {"BACKEND": WAITRESS, "ARGS": {"listen": "127.0.0.1:8002"}},
}


@override_settings(PRODUCTION_PROCESSES=PROCESSES)
def test_a_dry_run_plans_and_validates_once(calls):
    call_command("prodserver", "web", "--dry-run", skip_checks=False, stdout=io.StringIO())
    assert calls == {"web.plan": 1, "web.validate": 1}


@override_settings(PRODUCTION_PROCESSES=PROCESSES)
def test_processes_together_are_each_planned_once(calls):
    call_command("prodserver", "web", "admin", "--dry-run", skip_checks=False, stdout=io.StringIO())
    assert calls == {"web.plan": 1, "web.validate": 1, "admin.plan": 1, "admin.validate": 1}


@override_settings(PRODUCTION_PROCESSES=PROCESSES)
def test_a_start_plans_once_before_it_runs(calls, monkeypatch):
    started: list[Plan] = []
    monkeypatch.setattr(GunicornServer, "run", lambda self, plan: started.append(plan))
    call_command("prodserver", "web", skip_checks=False)
    assert [plan.process for plan in started] == ["web"]
    assert calls == {"web.plan": 1, "web.validate": 1}


@override_settings(PRODUCTION_PROCESSES={"beat": {"BACKEND": BEAT, "APP": APP}})
def test_celery_beat_loads_its_app_once_per_start(monkeypatch, tmp_path):
    from celery.app import utils

    monkeypatch.setenv("CELERY_BROKER_URL", "memory://")
    loaded: list[str] = []
    original = utils.find_app

    def counting_find_app(path, *args, **kwargs):
        loaded.append(path)
        return original(path, *args, **kwargs)

    # What `celery -A` (and the backend, to load APP) finds the app with.
    monkeypatch.setattr(utils, "find_app", counting_find_app)
    monkeypatch.chdir(tmp_path)
    execed: list[Plan] = []
    # The start ends in exec'ing `python -m celery ... beat`: the line is recorded instead.
    monkeypatch.setattr(celery_backends, "exec_plan", execed.append)
    call_command("prodserver", "beat", skip_checks=False)
    assert loaded == [APP]
    assert execed[0].argv[:4] == ("celery", "-A", APP, "beat")


class CountedReads(dict):  # type: ignore[type-arg]
    """A PRODUCTION_PROCESSES that counts how often its definitions are read."""

    reads = 0

    def items(self):
        CountedReads.reads += 1
        return super().items()


def test_a_start_reads_the_setting_once(calls, monkeypatch):
    monkeypatch.setattr(CountedReads, "reads", 0)
    with override_settings(PRODUCTION_PROCESSES=CountedReads(PROCESSES)):
        call_command("prodserver", "web", "--dry-run", skip_checks=False, stdout=io.StringIO())
    assert CountedReads.reads == 1


@pytest.fixture
def loads(monkeypatch):
    """How often each process's backend was made (loaded), by process and backend class."""
    from django_prodserver.backends.base import Backend

    counted: Counter[str] = Counter()
    original = Backend.__init__

    def counting(self, spec, *args, **kwargs):
        counted[f"{spec.name}:{type(self).__name__}"] += 1
        original(self, spec, *args, **kwargs)

    monkeypatch.setattr(Backend, "__init__", counting)
    return counted


@override_settings(PRODUCTION_PROCESSES=PROCESSES)
def test_devserver_loads_and_plans_each_process_once(loads, calls, monkeypatch):
    """Each web server is planned once to find where it listens, and its replacement,
    Django's runserver, is loaded and planned once, the checks included."""
    from django_prodserver.backends.dev.django_runserver import DjangoRunserver

    original = DjangoRunserver.plan

    def counting(self, *args, **kwargs):
        calls[f"{self.name}.runserver.plan"] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DjangoRunserver, "plan", counting)
    stdout = io.StringIO()
    call_command("devserver", "web", "admin", "--dry-run", skip_checks=False, stdout=stdout)
    assert stdout.getvalue().splitlines()[0].startswith("web: python manage.py runserver")
    assert loads == {
        "web:GunicornServer": 1,
        "web:DjangoRunserver": 1,
        "admin:WaitressServer": 1,
        "admin:DjangoRunserver": 1,
    }
    assert calls == {
        "web.plan": 1,
        "web.validate": 1,
        "admin.plan": 1,
        "admin.validate": 1,
        "web.runserver.plan": 1,
        "admin.runserver.plan": 1,
    }
