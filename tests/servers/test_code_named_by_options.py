"""Option values that name code are imported before the start: a misspelt worker class or a
missing event loop is a check error with what to do, not a server that dies at the start."""

from __future__ import annotations

import pytest

from tests.support import free_port

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"


def test_a_misspelt_gunicorn_worker_class_fails_check_and_start(make_project):
    """It used to pass check and --dry-run; gunicorn then died with a traceback."""
    args = {"bind": f"127.0.0.1:{free_port()}", "worker-class": "uvicorn_worker.UvicornWorkr"}
    project = make_project({"web": {"BACKEND": GUNICORN, "ARGS": args}})
    message = (
        "Process 'web': gunicorn's worker class `uvicorn_worker.UvicornWorkr` does not exist: "
        "the module `uvicorn_worker` has no class `UvicornWorkr` (did you mean `UvicornWorker`"
    )
    for command in (("check",), ("prodserver", "web"), ("prodserver", "web", "--dry-run")):
        result = project.manage(*command, timeout=60)
        assert result.returncode != 0, (command, result.stdout)
        assert message in result.stderr, (command, result.stderr)
        assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("workers", [1, 2])
def test_a_uvicorn_loop_whose_package_is_missing_stops_the_start(make_project, workers):
    """It used to start: every worker then crashed with a traceback, in a loop."""
    args = {"host": "127.0.0.1", "port": free_port(), "loop": "uvloop", "workers": workers}
    project = make_project({"web": {"BACKEND": UVICORN, "ARGS": args}})

    start = project.manage_without("uvloop", "prodserver", "web")
    check = project.manage_without("uvloop", "check")

    message = (
        "Process 'web': uvicorn's `loop` 'uvloop' needs the package 'uvloop', which is not "
        "installed.\nInstall it with: pip install 'django-prodserver[uvicorn]'"
    )
    assert start.returncode != 0
    assert f"(prodserver.E007) {message}" in start.stderr
    assert "Traceback" not in start.stderr + start.stdout
    # `check` runs where the process may never run: a warning there, as for any package.
    assert check.returncode == 0, check.stderr
    assert "(prodserver.W002)" in check.stderr
    assert message in check.stderr
