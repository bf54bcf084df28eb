"""The runner holds its web processes' sockets and reloads them in turn: real servers on
127.0.0.1, real HTTP under load (tests/load.py), real signals."""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from tests.load import LoadClient, LoadResult
from tests.support import Project, Running, free_port, get

pytestmark = pytest.mark.server

BACKENDS = "django_prodserver.backends"
TASKS = f"{BACKENDS}.django_tasks.DjangoTasksWorker"
# Each server, on one worker process (small: one reload each), on `{address}`.
SERVERS: dict[str, dict[str, Any]] = {
    "gunicorn": {
        "BACKEND": f"{BACKENDS}.gunicorn.GunicornServer",
        "ARGS": {"bind": "127.0.0.1:{port}", "workers": 1},
    },
    "uvicorn": {
        "BACKEND": f"{BACKENDS}.uvicorn.UvicornServer",
        "ARGS": {"host": "127.0.0.1", "port": "{port}"},
    },
    "waitress": {
        "BACKEND": f"{BACKENDS}.waitress.WaitressServer",
        "ARGS": {"listen": "127.0.0.1:{port}"},
    },
    "hypercorn": {
        "BACKEND": f"{BACKENDS}.hypercorn.HypercornServer",
        "ARGS": {"bind": "127.0.0.1:{port}"},
    },
    "daphne": {
        "BACKEND": f"{BACKENDS}.daphne.DaphneServer",
        "ARGS": {"bind": "127.0.0.1", "port": "{port}"},
    },
    "granian": {
        "BACKEND": f"{BACKENDS}.granian.GranianWSGIServer",
        "ARGS": {"host": "127.0.0.1", "port": "{port}", "workers": 1},
    },
}
# The code the web process serves: a URL conf the test rewrites between reloads. Read at
# import, so only a new process serves a new version.
VIEWS = """
from django.http import HttpResponse
from django.urls import path

VERSION = {version!r}


def version(request):
    return HttpResponse(VERSION)


def healthz(request):
    return HttpResponse("ok" if {healthy!r} else "broken", status=200 if {healthy!r} else 503)


urlpatterns = [path("", version), path("healthz", healthz)]
"""
SETTINGS = 'ROOT_URLCONF = "reload_urls"\n'
HEALTH = {"PATH": "/healthz", "STATUS": 200}


@pytest.fixture(autouse=True)
def kill_whole_session(started: list[Running]) -> Iterator[None]:
    yield
    for running in started:
        for pid in running.session_pids():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def web(server: str, port: int, **definition: Any) -> dict[str, Any]:
    given = SERVERS[server]
    args = {key: str(value).format(port=port) for key, value in given["ARGS"].items()}
    return {"BACKEND": given["BACKEND"], "ARGS": args, "HEALTH": HEALTH, **definition}


def write_views(project: Project, version: str, healthy: bool = True) -> None:
    (project.directory / "reload_urls.py").write_text(
        VIEWS.format(version=version, healthy=healthy)
    )


def start(
    make_project: Callable[..., Project],
    started: list[Running],
    processes: dict[str, Any],
    *names: str,
) -> tuple[Project, Running]:
    project = make_project(processes, SETTINGS)
    write_views(project, "one")
    running = project.start("prodserver", *names, env={"PYTHONDONTWRITEBYTECODE": "1"})
    started.append(running)
    return project, running


def wait_for(condition: Callable[[], bool], timeout: float, what: str, running: Running) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s:\n{running.output}")
        time.sleep(0.05)


def reload_and_wait(running: Running, count: int = 1, timeout: float = 90) -> None:
    """SIGHUP (already sent, or now), until `count` reloads have ended."""
    wait_for(lambda: finished_reloads(running) >= count, timeout, "reload", running)


def finished_reloads(running: Running) -> int:
    return len(re.findall(r"Reload done|Reload of \S+ failed", running.output))


def started_pids(running: Running, name: str) -> list[int]:
    return [int(pid) for pid in re.findall(rf"\| {name} started \(pid (\d+)\)", running.output)]


def under_load(address: str, action: Callable[[], None]) -> LoadResult:
    """`action` while 16 threads send requests, half on keep-alive connections."""
    with LoadClient(address, threads=16) as load:
        load.wait_for_ok(50)
        action()
        time.sleep(0.5)
    return load.result


@pytest.mark.parametrize("server", list(SERVERS))
def test_a_reload_under_load_serves_the_new_code_and_drops_nothing(
    make_project: Callable[..., Project], started: list[Running], server: str
) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    project, running = start(
        make_project, started, {"web": web(server, port), "tasks": {"BACKEND": TASKS}}, "--all"
    )
    running.wait_until_serving(address)
    assert get(address)[1] == "one"

    def reload() -> None:
        write_views(project, "two")
        running.popen.send_signal(signal.SIGHUP)
        reload_and_wait(running)

    result = under_load(address, reload)
    print(f"{server}: {result.summary()}")
    assert "Reload done: 2 processes replaced" in running.output, running.output
    assert get(address)[1] == "two"
    assert len(started_pids(running, "web")) == 2
    assert result.refused == 0, (result.summary(), result.errors)
    assert result.failed == 0, (result.summary(), result.errors)
    code, _ = running.stop()
    assert code == 0, running.output
    assert running.wait_for_no_process_left() == []
