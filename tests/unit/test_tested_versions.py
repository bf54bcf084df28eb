"""The versions line at the top of the newest releases step (scripts/tested_versions.py)."""

from __future__ import annotations

from scripts.tested_versions import runtime_packages


def test_it_names_django_every_server_and_worker_and_no_tool():
    names = {name.lower() for name in runtime_packages()}

    assert runtime_packages()[0] == "Django"
    servers = {"gunicorn", "uvicorn", "granian", "waitress", "daphne", "hypercorn"}
    workers = {"celery", "flower", "django-rq", "rq", "dramatiq", "huey", "django-q2"}
    assert {*servers, *workers, "django-tasks-db"} <= names
    assert not {"pytest", "ruff", "mypy", "sphinx", "django-prodserver"} & names
