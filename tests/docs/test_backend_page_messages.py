"""The messages the backend pages (docs/backend-*.md) show are the ones `prodserver` prints.

Each case is a PRODUCTION_PROCESSES that a user could write, with the settings and packages it
meets; its messages, as `prodserver NAME` prints them before the start (a missing package is
then the error E007), must appear word for word on the backend's page.

Not covered: what is only found once the process runs (a broker or Redis that does not answer,
missing tables, a port taken, beat's schedule folder, huey's immediate mode), and gunicorn's
eventlet message, which names the installed gunicorn's version. A case whose package is not
installed is skipped (django-celery-beat's app is checked only where django-celery-beat is).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from django_prodserver.checks import messages_before_a_start
from django_prodserver.errors import ProdserverError
from django_prodserver.loading import load_backend
from django_prodserver.planning import plan_process
from django_prodserver.processes import read_configuration, read_processes

DOCS = Path(__file__).resolve().parents[2] / "docs"
BACKENDS = "django_prodserver.backends."
DATABASE_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
RQ_QUEUES = {
    "default": {"URL": "redis://localhost:6379/0"},
    "high": {"URL": "redis://localhost:6379/0"},
    "reports": {"URL": "redis://reports.internal:6379/1"},
}

# The package each page's backend runs: where it is not installed, the page's cases are skipped.
PACKAGES = {
    "gunicorn": "gunicorn",
    "uvicorn-asgi": "uvicorn",
    "granian": "granian",
    "waitress": "waitress",
    "daphne": "daphne",
    "hypercorn": "hypercorn",
    "celery": "celery",
    "django-tasks": "django_tasks_db",
    "django-q2": "django_q",
    "rq": "django_rq",
    "dramatiq": "django_dramatiq",
    "huey": "huey",
}


@dataclass(frozen=True)
class Case:
    processes: dict[str, Any]
    settings: Mapping[str, Any] = field(default_factory=dict)
    # Module name -> None (not installed), or the name of a module that stands in for it.
    modules: Mapping[str, str | None] = field(default_factory=dict)
    # A package the case needs beyond the page's own.
    needs: str | None = None


def process(name: str, backend: str, args: Any = None, **definition: Any) -> dict[str, Any]:
    return {name: {"BACKEND": BACKENDS + backend, "ARGS": args or {}, **definition}}


def without_app(app: str) -> dict[str, list[str]]:
    return {"INSTALLED_APPS": [name for name in settings.INSTALLED_APPS if name != app]}


def gunicorn(args: Any = None) -> dict[str, Any]:
    return process("web", "gunicorn.GunicornServer", args)


def uvicorn(args: Any = None) -> dict[str, Any]:
    return process("web", "uvicorn.UvicornServer", args)


def granian(args: Any = None, backend: str = "GranianASGIServer") -> dict[str, Any]:
    return process("web", f"granian.{backend}", args)


def waitress(args: Any = None) -> dict[str, Any]:
    return process("web", "waitress.WaitressServer", args)


def daphne(args: Any = None) -> dict[str, Any]:
    return process("web", "daphne.DaphneServer", args)


def hypercorn(args: Any = None) -> dict[str, Any]:
    return process("web", "hypercorn.HypercornServer", args)


def celery_worker(
    args: Any = None, app: str | None = "exampleproject.celery.app"
) -> dict[str, Any]:
    return process("worker", "celery.CeleryWorker", args, **({"APP": app} if app else {}))


def celery_beat(args: Any = None) -> dict[str, Any]:
    return process("beat", "celery.CeleryBeat", args, APP="exampleproject.celery.app")


def db_worker(args: Any = None) -> dict[str, Any]:
    return process("tasks", "django_tasks.DjangoTasksWorker", args)


def qcluster(args: Any = None) -> dict[str, Any]:
    return process("qcluster", "django_q2.DjangoQ2Worker", args)


def rqworker(args: Any = None) -> dict[str, Any]:
    return process("rqworker", "rq.RQWorker", args)


def dramatiq(args: Any = None) -> dict[str, Any]:
    return process("dramatiq", "dramatiq.DramatiqWorker", args)


def huey(args: Any = None) -> dict[str, Any]:
    return process("huey", "huey.HueyConsumer", args)


CASES: dict[str, dict[str, Case]] = {
    "gunicorn": {
        "gevent missing": Case(gunicorn({"worker-class": "gevent"}), modules={"gevent": None}),
    },
    "uvicorn-asgi": {
        # A project without an asgi.py beside its wsgi.py.
        "no ASGI application": Case(
            uvicorn(),
            settings={"WSGI_APPLICATION": "myproject.wsgi.application"},
            modules={"myproject.asgi": None},
        ),
        "mistyped option": Case(uvicorn({"proxy-header": True})),
    },
    "granian": {
        "blocking-threads on ASGI": Case(granian({"blocking-threads": 4})),
        "3.0's threads on ASGI": Case(granian({"threads": 4})),
        "None on a flag": Case(granian({"access-log": None})),
        "mistyped option": Case(granian({"acess-log": True})),
        "another server's name": Case(granian({"bind": "0.0.0.0:8000"})),
        "value rejected": Case(granian({"port": "eighty"})),
        "interface against the backend": Case(granian({"interface": "wsgi"})),
        "ws on WSGI": Case(granian({"ws": True}, backend="GranianWSGIServer")),
        "extra missing": Case(granian({"reload": True}), modules={"watchfiles": None}),
    },
    "waitress": {
        "mistyped option": Case(waitress({"thread": 8})),
        "gunicorn's name": Case(waitress({"workers": 4})),
        "port and listen": Case(waitress({"port": 8000, "listen": "0.0.0.0:8000"})),
    },
    "daphne": {
        "unknown option": Case(daphne({"host": "0.0.0.0"})),
        "mistyped option": Case(daphne({"prot": 8000})),
        "value rejected": Case(daphne({"port": "eighty"})),
        "proxy-headers-host alone": Case(daphne({"proxy-headers-host": "X-Forwarded-Host"})),
    },
    "hypercorn": {
        "mistyped option": Case(hypercorn({"workres": 4})),
        "value rejected": Case(hypercorn({"workers": "four"})),
        "config-file only": Case(hypercorn({"shutdown_timeout": 30})),
        "worker class missing": Case(
            hypercorn({"worker-class": "uvloop"}), modules={"uvloop": None}
        ),
        "unknown log level": Case(hypercorn({"log-level": "verbose"})),
    },
    "celery": {
        "no APP": Case(celery_worker({"concurrency": 4}, app=None)),
        "APP names nothing": Case(
            celery_worker(app="myproject.celery.application"),
            modules={"myproject.celery": "exampleproject.celery"},
        ),
        "mistyped option": Case(celery_worker({"concurency": 4})),
        "value rejected": Case(celery_worker({"loglevel": "VERBOSE"})),
        "Celery missing": Case(celery_worker(), modules={"celery": None}),
        "scheduler's app not installed": Case(
            celery_beat({"scheduler": DATABASE_SCHEDULER}), needs="django_celery_beat"
        ),
        "scheduler's package missing": Case(
            celery_beat({"scheduler": DATABASE_SCHEDULER}), modules={"django_celery_beat": None}
        ),
        "scheduler that does not import": Case(
            celery_beat({"scheduler": "celery.beat:PersistentSchedular"})
        ),
        "detach": Case(celery_worker({"detach": True})),
    },
    "django-tasks": {
        "app not installed": Case(db_worker(), settings=without_app("django_tasks_db")),
        "immediate backend": Case(
            db_worker(),
            settings={
                "TASKS": {
                    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
                }
            },
            needs="django_tasks",
        ),
        "package missing": Case(db_worker(), modules={"django_tasks_db": None}),
    },
    "django-q2": {
        "Q_CLUSTER not set": Case(qcluster(), settings={"Q_CLUSTER": None}),
        "app not installed": Case(qcluster(), settings=without_app("django_q")),
        "package missing": Case(qcluster(), modules={"django_q": None}),
    },
    "rq": {
        "mistyped queue": Case(rqworker({"queues": ["hihg"]}), settings={"RQ_QUEUES": RQ_QUEUES}),
        "no default queue": Case(
            rqworker(),
            settings={"RQ_QUEUES": {k: v for k, v in RQ_QUEUES.items() if k != "default"}},
        ),
        "two connections": Case(
            rqworker({"queues": ["high", "reports"]}), settings={"RQ_QUEUES": RQ_QUEUES}
        ),
        "mistyped option": Case(rqworker({"bursts": True}), settings={"RQ_QUEUES": RQ_QUEUES}),
        "value rejected": Case(rqworker({"max-jobs": "many"}), settings={"RQ_QUEUES": RQ_QUEUES}),
        "RQ_QUEUES not set": Case(rqworker(), settings={"RQ_QUEUES": None}),
        "app not installed": Case(rqworker(), settings=without_app("django_rq")),
        "package missing": Case(rqworker(), modules={"django_rq": None}),
    },
    "dramatiq": {
        "mistyped option": Case(dramatiq({"thread": 2})),
        "value rejected": Case(dramatiq({"processes": "two"})),
        "reload and watch": Case(dramatiq({"reload": True, "watch": "."})),
        "app not installed": Case(dramatiq(), settings=without_app("django_dramatiq")),
        "package missing": Case(dramatiq(), modules={"django_dramatiq": None}),
        "DRAMATIQ_BROKER not set": Case(dramatiq(), settings={"DRAMATIQ_BROKER": None}),
    },
    "huey": {
        "mistyped option": Case(huey({"worker": 2})),
        "value rejected": Case(huey({"worker-type": "fork"})),
        "graceful signal against STOP_SIGNAL": Case(huey({"graceful_signal": "INT"})),
        "HUEY not set": Case(huey(), settings={"HUEY": None}),
        "app not installed": Case(huey(), settings=without_app("huey.contrib.djhuey")),
        "package missing": Case(huey(), modules={"huey": None}),
    },
}

# Options typed after the name (`prodserver tasks --processes=4`): the checks have passed,
# and the start stops with a CommandError.
TYPED: dict[str, dict[str, tuple[dict[str, Any], list[str]]]] = {
    "uvicorn-asgi": {"value rejected": (uvicorn(), ["--port=eighty"])},
    "waitress": {"value rejected": (waitress(), ["--threads=many"])},
    "django-tasks": {
        "one task at a time": (db_worker(), ["--processes=4"]),
        "mistyped option": (db_worker(), ["--interva=1"]),
        "value rejected": (db_worker(), ["--max-tasks=0"]),
    },
    "django-q2": {"a key of Q_CLUSTER": (qcluster(), ["--workers=4"])},
}


def page_text(page: str) -> str:
    pytest.importorskip(PACKAGES[page])
    return (DOCS / f"backend-{page}.md").read_text()


@pytest.mark.parametrize(
    ("page", "case"),
    [
        pytest.param(page, case, id=f"{page}: {name}")
        for page, cases in CASES.items()
        for name, case in cases.items()
    ],
)
def test_the_page_shows_the_message_as_prodserver_prints_it(
    monkeypatch: pytest.MonkeyPatch, page: str, case: Case
) -> None:
    text = page_text(page)
    if case.needs:
        pytest.importorskip(case.needs)
    for name, stand_in in case.modules.items():
        module = importlib.import_module(stand_in) if stand_in else None
        monkeypatch.setitem(sys.modules, name, module)
    with (
        override_settings(PRODUCTION_PROCESSES=case.processes, **case.settings),
    ):
        planned = [plan_process(spec) for spec in read_configuration().specs.values()]
        messages = messages_before_a_start(planned)

    assert messages
    for message in messages:
        assert str(message) in text, f"not on backend-{page}.md:\n{message}"


@pytest.mark.parametrize(
    ("page", "processes", "typed"),
    [
        pytest.param(page, processes, typed, id=f"{page}: {name}")
        for page, cases in TYPED.items()
        for name, (processes, typed) in cases.items()
    ],
)
def test_the_page_shows_a_typed_option_as_the_start_prints_it(
    page: str, processes: dict[str, Any], typed: Sequence[str]
) -> None:
    text = page_text(page)
    with override_settings(PRODUCTION_PROCESSES=processes):
        [spec] = read_processes()[0].values()
        with pytest.raises(ProdserverError) as error:
            load_backend(spec).plan(typed)

    assert f"CommandError: {error.value}" in text
