"""The runner holds its web processes' sockets and reloads them in turn: real servers on
127.0.0.1, real HTTP under load (tests/load.py), real signals."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import time
from collections.abc import Callable
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from tests.load import LoadClient, LoadResult
from tests.support import RELOADABLE_SETTINGS, Project, Running, free_port, get, write_views

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
# Every server's stop lets a request in flight finish, and answers a request sent on an idle
# kept-alive connection as it stops (our serving layer lingers where the server would close
# it at once): a reload fails none.
HEALTH = {"PATH": "/healthz", "STATUS": 200}


def reset_by_the_kernel(server: str, result: LoadResult) -> int:
    """The failed requests a reload may have: for granian, which closes its own listening
    socket (SO_REUSEPORT), the kernel resets a connection still in its handshake at that
    instant (docs/backend-granian.md). About one reload in 25 had one; a handful at most."""
    if server != "granian":
        return 0
    assert result.reset_new <= 2, (result.summary(), result.errors)
    return result.reset_new


def web(server: str, port: int, **definition: Any) -> dict[str, Any]:
    given = SERVERS[server]
    args = {key: str(value).format(port=port) for key, value in given["ARGS"].items()}
    return {"BACKEND": given["BACKEND"], "ARGS": args, "HEALTH": HEALTH, **definition}


def start(
    make_project: Callable[..., Project],
    started: list[Running],
    processes: dict[str, Any],
    *names: str,
) -> tuple[Project, Running]:
    project = make_project(processes, RELOADABLE_SETTINGS)
    write_views(project, "one")
    assert project.manage("migrate", "-v", "0").returncode == 0  # the tasks worker's tables
    running = project.start("prodserver", *names, env={"PYTHONDONTWRITEBYTECODE": "1"})
    started.append(running)
    return project, running


def says_it_serves_the_runners_socket(running: Running, name: str) -> bool:
    line = rf"^\d\d:\d\d:\d\d {re.escape(name)} +\| web: serving on the socket\(s\) the runner"
    return bool(re.search(line, running.output, re.MULTILINE))


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
    assert result.refused == 0, (server, result.summary(), result.errors)
    assert result.failed == reset_by_the_kernel(server, result), (result.summary(), result.errors)
    # Not even a request that a client would send again: no connection was closed unanswered.
    assert result.retried == 0, (server, result.summary(), result.errors)
    code, _ = running.stop()
    assert code == 0, running.output
    assert running.wait_for_no_process_left() == []


def test_a_new_child_that_fails_its_health_check_leaves_the_old_one_serving(
    make_project: Callable[..., Project], started: list[Running]
) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    project, running = start(
        make_project, started, {"web": web("gunicorn", port), "tasks": {"BACKEND": TASKS}}, "--all"
    )
    running.wait_until_serving(address)
    [old] = started_pids(running, "web")

    def broken_reload() -> None:
        write_views(project, "two", healthy=False)
        running.popen.send_signal(signal.SIGHUP)
        reload_and_wait(running)

    result = under_load(address, broken_reload)
    assert re.search(
        rf"Reload of web failed: GET http://127.0.0.1:\d+/healthz answered 503, not the 200 "
        rf"of HEALTH\. The new child is stopped; the old one \(pid {old}\) keeps serving\. "
        rf"The reload stops here: tasks keep running as they were\.",
        running.output,
    ), running.output
    wait_for(lambda: "(pid" in running.output.split("Reload of web failed")[1], 30, "end", running)
    wait_for(lambda: "replaced) " in running.output, 30, "new child's end", running)
    assert [get(address)[1] for _ in range(5)] == ["one"] * 5
    assert result.refused == 0, (result.summary(), result.errors)
    assert result.failed == 0, (result.summary(), result.errors)
    # The worker was not reloaded: it started once.
    assert len(started_pids(running, "tasks")) == 1
    code, _ = running.stop()
    assert code == 0, running.output


def test_signals_sent_together_make_one_reload_and_prodserver_reload_finds_the_runner(
    make_project: Callable[..., Project], started: list[Running]
) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    project, running = start(
        make_project, started, {"web": web("gunicorn", port), "tasks": {"BACKEND": TASKS}}, "--all"
    )
    running.wait_until_serving(address)
    for _ in range(3):
        running.popen.send_signal(signal.SIGHUP)
    reload_and_wait(running)
    time.sleep(1.0)
    assert running.output.count("SIGHUP received: reloading every process in turn.") == 1
    assert "one more reload" not in running.output
    assert finished_reloads(running) == 1
    assert len(started_pids(running, "web")) == 2

    write_views(project, "three")
    asked = project.manage("prodserver", "--reload")
    assert asked.returncode == 0, asked.stderr
    assert f"Asked the runner (pid {running.popen.pid}) of tasks, web to reload" in asked.stdout
    reload_and_wait(running, 2)
    assert get(address)[1] == "three"
    assert len(started_pids(running, "web")) == 3

    code, _ = running.stop()
    assert code == 0, running.output
    refused = project.manage("prodserver", "--reload")
    assert refused.returncode != 0
    assert "No prodserver runner of this project" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_formation_serves_with_two_children_on_one_port(
    make_project: Callable[..., Project], started: list[Running]
) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    processes = {"web": web("waitress", port), "tasks": {"BACKEND": TASKS}}
    project = make_project(processes, RELOADABLE_SETTINGS)
    write_views(project, "one")
    assert project.manage("migrate", "-v", "0").returncode == 0
    dry = project.manage("prodserver", "web=2", "tasks", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert [line.split(":")[0] for line in dry.stdout.splitlines()] == ["web.1", "web.2", "tasks"]
    running = project.start("prodserver", "web=2", "tasks=2")
    started.append(running)
    running.wait_until_serving(address)
    wait_for(lambda: len(started_pids(running, "web.2")) == 1, 30, "web.2", running)
    web_pids = started_pids(running, "web.1") + started_pids(running, "web.2")
    assert len(started_pids(running, "tasks.1") + started_pids(running, "tasks.2")) == 2
    for name in ("web.1", "web.2"):
        # Each copy says it once its Django is set up: web.1's line may come after web.2's.
        wait_for(partial(says_it_serves_the_runners_socket, running, name), 30, name, running)

    def holders() -> set[int]:
        """The children (web.1, web.2) that hold the one listening socket on the port."""
        found = set()
        for pid in web_pids:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                        found.add(pid)
        return found

    assert holders() == set(web_pids)
    result = under_load(address, lambda: time.sleep(1.0))
    assert result.ok > 0, result.summary()
    assert result.failed == 0, (result.summary(), result.errors)
    assert result.refused == 0, (result.summary(), result.errors)

    running.popen.send_signal(signal.SIGHUP)
    reload_and_wait(running)
    assert "Reload done: 4 processes replaced" in running.output, running.output
    reloads = re.findall(r"Reloading (\S+?):", running.output)
    assert reloads == ["web.1", "web.2", "tasks.1", "tasks.2"], reloads
    code, _ = running.stop()
    assert code == 0, running.output


@pytest.mark.parametrize("typed", ["web=0", "web=x", "web=65", "=2"])
def test_a_formation_with_a_wrong_count_is_refused(
    make_project: Callable[..., Project], typed: str
) -> None:
    project = make_project({"web": web("waitress", free_port())})
    done = project.manage("prodserver", typed, "--dry-run")
    assert done.returncode != 0
    assert "a formation is NAME=N, N a whole number of copies from 1 to 64" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_killed_web_child_leaves_its_port_open(
    make_project: Callable[..., Project], started: list[Running]
) -> None:
    port = free_port()
    address = f"127.0.0.1:{port}"
    _, running = start(
        make_project, started, {"web": web("gunicorn", port), "tasks": {"BACKEND": TASKS}}, "--all"
    )
    running.wait_until_serving(address)
    [first] = started_pids(running, "web")

    def kill() -> None:
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: "Starting it again in" in running.output, 10, "the restart", running)
        # Made while no child runs (its workers were killed with it): the connection waits
        # in the runner's socket's backlog until the new child takes it.
        assert len(started_pids(running, "web")) == 1, running.output
        status, _ = get(address, timeout=30)
        assert status == 200
        assert len(started_pids(running, "web")) == 2, running.output

    result = under_load(address, kill)
    print(f"kill -9: {result.summary()}")
    assert result.refused == 0, (result.summary(), result.errors)
    assert "web was killed by SIGKILL" in running.output
    code, _ = running.stop()
    assert code == 0, running.output


def test_a_unix_socket_is_held_a_stale_one_removed_and_a_stop_during_a_reload_stops_all(
    make_project: Callable[..., Project], started: list[Running], tmp_path: Path
) -> None:
    path = tmp_path / "web.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens: what a killed server leaves
    definition = web("uvicorn", 0)
    definition["ARGS"] = {"uds": str(path)}
    _, running = start(
        make_project, started, {"web": definition, "tasks": {"BACKEND": TASKS}}, "--all"
    )
    running.wait_until_serving(f"unix:{path}")
    assert stat.S_ISSOCK(path.stat().st_mode)
    running.popen.send_signal(signal.SIGHUP)
    wait_for(lambda: "Reloading web: a new child" in running.output, 30, "reload", running)
    code, _ = running.stop()
    assert code == 0, running.output
    assert running.wait_for_no_process_left() == []
    assert "Reload done" not in running.output


def test_an_address_the_runner_cannot_listen_on_is_a_clear_error(
    make_project: Callable[..., Project], started: list[Running]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        project = make_project({"web": web("gunicorn", port), "tasks": {"BACKEND": TASKS}})
        done = project.manage("prodserver", "--all")
    assert done.returncode != 0
    assert (
        f"Process 'web': the runner cannot listen on 127.0.0.1:{port} (Address already in "
        f"use). Stop what holds it, or give 'web' another address in ARGS." in done.stderr
    ), done.stderr
    assert "Traceback" not in done.stderr


def test_copies_of_a_release_step_are_refused(make_project: Callable[..., Project]) -> None:
    port = free_port()
    project = make_project(
        {
            "web": web("gunicorn", port),
            "migrate": {
                "BACKEND": "django_prodserver.backends.release.ReleaseCommand",
                "ARGS": ["migrate", "--noinput"],
            },
        }
    )
    done = project.manage("prodserver", "web", "migrate=2", "--dry-run")
    assert done.returncode != 0
    assert "migrate=2: 'migrate' is a release step, which runs once" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


UNIX_ARGS = {
    "gunicorn": lambda path: {"bind": f"unix:{path}", "workers": 1},
    # `env` makes prodserver run the gunicorn command rather than gunicorn in-process.
    "gunicorn-command": lambda path: {"bind": f"unix:{path}", "workers": 1, "env": "A=1"},
    "uvicorn": lambda path: {"uds": path},
    "hypercorn": lambda path: {"bind": f"unix:{path}"},
    "daphne": lambda path: {"unix_socket": path},
    "waitress": lambda path: {"unix_socket": path},
}


@pytest.mark.parametrize("server", list(UNIX_ARGS))
def test_a_reload_on_a_unix_socket_leaves_the_socket_file_in_place(
    make_project: Callable[..., Project], started: list[Running], tmp_path: Path, server: str
) -> None:
    path = tmp_path / "web.sock"
    definition = web(server.split("-")[0], 0)
    definition["ARGS"] = UNIX_ARGS[server](str(path))
    project, running = start(make_project, started, {"web": definition}, "--all")
    running.wait_until_serving(f"unix:{path}")
    write_views(project, "two")
    running.popen.send_signal(signal.SIGHUP)
    reload_and_wait(running)
    wait_for(lambda: "replaced) " in running.output, 60, "the old child's end", running)
    # The old server, as it stopped, did not remove the file the new one serves on.
    assert path.is_socket(), running.output
    assert get(f"unix:{path}")[1] == "two"
    code, _ = running.stop()
    assert code == 0, running.output
