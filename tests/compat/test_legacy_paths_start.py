"""Each of django-prodserver 3.0's BACKEND paths starts a real server (and a real worker)."""

from __future__ import annotations

import pytest

from tests.support import free_port, write_project

pytestmark = pytest.mark.server

SERVERS = "django_prodserver.backends.servers."
# path -> ARGS, given the port to listen on
SERVER_PATHS = {
    "gunicorn.GunicornServer": lambda port: {"bind": f"127.0.0.1:{port}", "workers": 1},
    "uvicorn.UvicornServer": lambda port: {"host": "127.0.0.1", "port": port},
    "uvicorn.UvicornWSGIServer": lambda port: {"host": "127.0.0.1", "port": port},
    "waitress.WaitressServer": lambda port: {"listen": f"127.0.0.1:{port}"},
    "granian.GranianASGIServer": lambda port: {"host": "127.0.0.1", "port": port},
    "granian.GranianWSGIServer": lambda port: {"host": "127.0.0.1", "port": port},
    "daphne.DaphneServer": lambda port: {"bind": "127.0.0.1", "port": port},
    "hypercorn.HypercornServer": lambda port: {"bind": f"127.0.0.1:{port}"},
}


@pytest.mark.parametrize("path", SERVER_PATHS)
def test_a_servers_path_serves_and_stops(tmp_path, started, path):
    port = free_port()
    made = write_project(
        tmp_path, {"web": {"BACKEND": SERVERS + path, "ARGS": SERVER_PATHS[path](port)}}
    )
    running = made.start("prodserver", "web")
    started.append(running)
    running.wait_until_serving(f"127.0.0.1:{port}")
    running.stop()
    assert running.wait_for_no_process_left() == []


def test_a_workers_path_runs_a_task(tmp_path, started):
    pytest.importorskip("django_tasks_db")
    from tests.workers.effects import wait_for_lines

    worker = "django_prodserver.backends.workers.django_tasks.DjangoTasksWorker"
    made = write_project(
        tmp_path,
        {"tasks": {"BACKEND": worker, "ARGS": {"interval": 0.2, "no_startup_delay": True}}},
    )
    assert made.manage("migrate", "--verbosity=0").returncode == 0
    running = made.start("prodserver", "tasks")
    started.append(running)
    effects = tmp_path / "effects.txt"
    made.shell(
        f"from jobs import database_tasks\n"
        f"database_tasks.record_line.enqueue({str(effects)!r}, 'legacy path')"
    )
    wait_for_lines(effects, ["legacy path"], running)
    running.stop()
    assert running.wait_for_no_process_left() == []
