"""The application a server serves is found before the start, not by the server as it starts.

`manage.py check` finds the module that WSGI_APPLICATION or ASGI_APPLICATION names without
importing it (nor the packages it is in); a server that serves inside `manage.py` imports
the module anyway, and finds the attribute there before it listens.
"""

from __future__ import annotations

import sys

import pytest
from django.conf import settings
from django.test import override_settings

from tests.support import EXAMPLE, PACKAGE_FOLDER, REPO, write_project
from tests.unit.hostile_support import manage

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"
WAITRESS = "django_prodserver.backends.waitress.WaitressServer"
ASGI_WORKER = {"BACKEND": GUNICORN, "ARGS": {"worker-class": "uvicorn_worker.UvicornWorker"}}

CASES = {
    "ASGI_APPLICATION, no such package": (
        {"web": {"BACKEND": UVICORN}},
        {"ASGI_APPLICATION": "nowhere.asgi.application"},
        "(prodserver.E009) Process 'web': ASGI_APPLICATION 'nowhere.asgi.application' cannot "
        "be served: there is no module 'nowhere'.",
    ),
    "an ASGI worker's application, a misspelt module": (
        {"web": ASGI_WORKER},
        {"ASGI_APPLICATION": "exampleproject.asgii.application"},
        "(prodserver.E009) Process 'web': ASGI_APPLICATION 'exampleproject.asgii.application' "
        "cannot be served: there is no module 'exampleproject.asgii' (did you mean "
        "'exampleproject.asgi'?).",
    ),
    "WSGI_APPLICATION, a module under a module": (
        {"web": {"BACKEND": GUNICORN}},
        {"WSGI_APPLICATION": "exampleproject.wsgi.handlers.application"},
        "(prodserver.E009) Process 'web': WSGI_APPLICATION "
        "'exampleproject.wsgi.handlers.application' cannot be served: there is no module "
        "'exampleproject.wsgi.handlers'.",
    ),
    "WSGI_APPLICATION, not a dotted path": (
        {"web": {"BACKEND": WAITRESS}},
        {"WSGI_APPLICATION": "application"},
        "(prodserver.E009) Process 'web': WSGI_APPLICATION is 'application', which is not the "
        "dotted path of an application, such as 'myproject.wsgi.application'.",
    ),
}


@pytest.mark.parametrize(("processes", "setting", "message"), CASES.values(), ids=CASES.keys())
def test_check_finds_a_module_that_does_not_exist(processes, setting, message):
    with override_settings(PRODUCTION_PROCESSES=processes, **setting):
        check = manage("check", "--tag=prodserver")
        dry_run = manage("prodserver", "web", "--dry-run")

    assert check.status == 1
    assert message in check.stderr
    assert dry_run.status == 1
    assert message.partition(") ")[2] in dry_run.stderr


def test_the_module_is_found_without_importing_its_packages(tmp_path, monkeypatch):
    package = tmp_path / "explodes"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")
    (package / "asgi.py").write_text("application = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    processes = {"web": {"BACKEND": UVICORN}}
    for module, error in [("explodes.asgi", ""), ("explodes.nothing", "'explodes.nothing'")]:
        with override_settings(PRODUCTION_PROCESSES=processes, ASGI_APPLICATION=f"{module}.app"):
            check = manage("check", "--tag=prodserver")
        assert check.status == (1 if error else 0), check.stderr
        assert f"there is no module {error}" in check.stderr if error else True
        assert "Traceback" not in check.stderr
    assert "explodes" not in sys.modules


def test_an_unset_asgi_application_is_told_without_a_made_up_path():
    with override_settings(PRODUCTION_PROCESSES={"web": {"BACKEND": UVICORN}}):
        del settings.ASGI_APPLICATION
        del settings.WSGI_APPLICATION
        check = manage("check", "--tag=prodserver")

    assert check.status == 1
    assert (
        "(prodserver.E009) Process 'web': there is no ASGI application to serve: "
        "ASGI_APPLICATION is not set (nor WSGI_APPLICATION, beside whose module startproject "
        "writes asgi.py). Set it to the application of the project's asgi.py, such as "
        "ASGI_APPLICATION = 'myproject.asgi.application'."
    ) in check.stderr


def test_a_server_started_for_real_stops_at_check_not_at_its_start(tmp_path):
    """uvicorn used to fail as it started ("Could not import module"); now check stops it."""
    project = write_project(
        tmp_path, {"web": {"BACKEND": UVICORN}}, 'ASGI_APPLICATION = "nowhere.asgi.application"'
    )
    result = project.manage("prodserver", "web", timeout=60)

    assert result.returncode == 1
    assert "there is no module 'nowhere'" in result.stderr
    assert "Could not import module" not in result.stderr + result.stdout


@pytest.mark.parametrize("backend", [GUNICORN, WAITRESS])
def test_a_missing_attribute_is_found_where_the_start_imports_the_module(tmp_path, backend):
    project = write_project(
        tmp_path, {"web": {"BACKEND": backend}}, 'WSGI_APPLICATION = "exampleproject.wsgi.app"'
    )
    path = ":".join(map(str, [tmp_path, EXAMPLE, REPO, PACKAGE_FOLDER]))
    result = project.manage("prodserver", "web", env={"PYTHONPATH": path}, timeout=60)

    assert result.returncode == 1
    assert (
        "Process 'web': the application 'exampleproject.wsgi:app' cannot be served: the module "
        "'exampleproject.wsgi' has no attribute 'app'; it has 'application'."
    ) in result.stderr
    assert "Traceback" not in result.stderr
    assert "Listening at" not in result.stderr + result.stdout  # it never listened
