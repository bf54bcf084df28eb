"""devserver's choices, without starting anything: DEV read and checked, the development
form of each kind of process, what is left out, and the polling fallback."""

from __future__ import annotations

import sys

import pytest
from django.test import override_settings

from django_prodserver.development.devserver import chosen_processes
from django_prodserver.development.watching import PollingWatcher, make_watcher
from django_prodserver.errors import ProdserverError
from django_prodserver.processes import read_configuration

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"
RUNSERVER = "django_prodserver.backends.dev.django_runserver.DjangoRunserver"
TASKS = "django_prodserver.backends.django_tasks.DjangoTasksWorker"
BEAT = "django_prodserver.backends.celery.CeleryBeat"


def chosen(processes, names=()):
    with override_settings(PRODUCTION_PROCESSES=processes):
        return chosen_processes(read_configuration(), list(names))


def problems(definition):
    with override_settings(PRODUCTION_PROCESSES={"web": definition}):
        return [problem.message for problem in read_configuration().problems]


def test_a_wsgi_server_becomes_runserver_on_loopback_at_its_port():
    [web], left_out = chosen({"web": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8123"}}})
    assert (web.spec.backend, web.spec.args) == (RUNSERVER, {"addrport": "127.0.0.1:8123"})
    assert web.origin == "in place of gunicorn (WSGI)"
    assert left_out == []


def test_an_asgi_server_becomes_uvicorn_with_reload():
    [web], _ = chosen({"web": {"BACKEND": UVICORN, "ARGS": {"port": 8124, "workers": 4}}})
    assert (web.spec.backend, web.spec.args) == (
        UVICORN,
        {"host": "127.0.0.1", "port": 8124, "reload": True},
    )


def test_a_scheduler_and_dev_false_are_left_out_unless_named():
    processes = {
        "tasks": {"BACKEND": TASKS},
        "beat": {"BACKEND": BEAT, "APP": "exampleproject.celery.app"},
        "metrics": {"BACKEND": GUNICORN, "DEV": False},
    }
    kept, left_out = chosen(processes)
    assert [process.name for process in kept] == ["tasks"]
    assert (
        left_out[0] == "beat (a scheduler, which must run once: name it to run it, "
        "`manage.py devserver beat ...`)"
    )
    assert left_out[1] == "metrics (its DEV is False)"
    assert [process.name for process in chosen(processes, ["beat"])[0]] == ["beat"]
    with pytest.raises(ProdserverError, match="Process 'metrics' is left out of development"):
        chosen(processes, ["metrics"])


def test_dev_replaces_backend_args_and_adds_env():
    definition = {
        "BACKEND": GUNICORN,
        "ARGS": {"bind": "0.0.0.0:8000"},
        "ENV": {"A": "1"},
        "DEV": {"BACKEND": RUNSERVER, "ENV": {"B": 2}},
    }
    [web], _ = chosen({"web": definition})
    assert (web.spec.backend, web.spec.args, dict(web.spec.env)) == (
        RUNSERVER,
        {},
        {"A": "1", "B": "2"},
    )
    assert web.origin == "DEV"


@pytest.mark.parametrize(
    ("dev", "message"),
    [
        (True, "Process 'web': DEV must be a dict of what `manage.py devserver` runs instead"),
        ({"ARG": {}}, "Process 'web': DEV has an unknown key 'ARG' (did you mean 'ARGS'?)."),
        ({"BACKEND": 3}, "Process 'web': DEV's BACKEND must be the dotted path"),
        ({"ARGS": 3}, "Process 'web': DEV's ARGS must be a dict of options"),
        ({"ENV": {"X": None}}, "Process 'web': DEV's ENV['X'] must be a string or a number"),
    ],
)
def test_a_bad_dev_is_a_problem_naming_the_process(dev, message):
    [found] = problems({"BACKEND": GUNICORN, "DEV": dev})
    assert found.startswith(message)


def test_without_watchfiles_the_reloader_polls_and_says_how_to_install_it(monkeypatch):
    monkeypatch.delenv("DJANGO_PRODSERVER_RELOADER", raising=False)
    monkeypatch.setitem(sys.modules, "watchfiles", None)
    watcher = make_watcher()
    assert isinstance(watcher, PollingWatcher)
    assert watcher.description == (
        "polling every 0.5 s (watchfiles is not installed: pip install "
        "'django-prodserver[dev]' to watch without polling)"
    )
