"""A backend written against django-prodserver 3.0's API runs through every command of ours."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support import Project, free_port, write_project

pytestmark = pytest.mark.server

LEGACY = "legacy_backends."


def project(tmp_path: Path, processes: dict[str, Any]) -> Project:
    made = write_project(tmp_path, processes)
    shutil.copy(Path(__file__).with_name("legacy_backends.py"), tmp_path / "legacy_backends.py")
    return made


def web(port: int) -> dict[str, Any]:
    return {"BACKEND": LEGACY + "WsgirefServer", "ARGS": {"port": port}}


def test_check_list_and_dry_run_show_it_honestly(tmp_path):
    made = project(tmp_path, {"web": web(8123), "ticker": {"BACKEND": LEGACY + "TickingWorker"}})
    assert made.manage("check").returncode == 0
    listed = made.manage("prodserver", "--list")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line.split()[1] for line in listed.stdout.splitlines()[1:]}
    assert rows == {"web": "web", "ticker": "worker"}
    dry = made.manage("prodserver", "web", "--dry-run")
    assert dry.stdout.strip() == (
        "legacy_backends.WsgirefServer.start_server --host=127.0.0.1 --port=8123"
        "  # run inside `manage.py prodserver web` (a django-prodserver 3.0 backend)"
    )


def test_prodserver_name_serves_and_stops_on_sigterm(tmp_path, started):
    port = free_port()
    made = project(tmp_path, {"web": web(port)})
    running = made.start("prodserver", "web")
    started.append(running)
    running.wait_until_serving(f"127.0.0.1:{port}")
    # wsgiref logs a request once it has answered it.
    assert running.wait_for_output("served GET / HTTP/1.1", timeout=10), running.output
    code, _ = running.stop()
    assert code == 0
    assert running.wait_for_no_process_left() == []


def test_it_runs_together_with_a_builtin_process_under_the_runner(tmp_path, started):
    port, gunicorn_port = free_port(), free_port()
    made = project(
        tmp_path,
        {
            "web": web(port),
            "ticker": {"BACKEND": LEGACY + "TickingWorker", "ARGS": ["--every=1"]},
            "gunicorn": {
                "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
                "ARGS": {"bind": f"127.0.0.1:{gunicorn_port}", "workers": 1},
            },
        },
    )
    running = made.start("prodserver", "--all")
    started.append(running)
    running.wait_until_serving(f"127.0.0.1:{port}")
    running.wait_until_serving(f"127.0.0.1:{gunicorn_port}")
    # The worker has started too (a SIGTERM before its handler is set would end it by the
    # signal, as any Python process).
    assert running.wait_for_output("tick --every=1"), running.output
    code, _ = running.stop()
    assert code == 0, running.output
    assert running.wait_for_no_process_left() == []


def test_export_runs_manage_py_prodserver_name(tmp_path):
    made = project(tmp_path, {"web": web(8123)})
    result = made.manage("prodserver", "--export", "procfile")
    assert result.returncode == 0, result.stderr
    assert "web: exec python manage.py prodserver web" in result.stdout


def test_what_the_backend_raises_is_a_check_error_not_a_traceback(tmp_path):
    made = project(tmp_path, {"web": {"BACKEND": LEGACY + "BrokenOnConstruction"}})
    result = made.manage("check")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert (
        "(prodserver.E012) Process 'web': BACKEND 'legacy_backends.BrokenOnConstruction' failed "
        "to be constructed: RuntimeError: the license key is missing"
    ) in result.stderr
    assert made.manage("migrate").returncode == 0
