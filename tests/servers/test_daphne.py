"""daphne through `prodserver`: the example project's ASGI application, SIGTERM, unix sockets.

daphne is one process. On SIGTERM Twisted stops the reactor and daphne exits 0, as its own
command does. It has no graceful shutdown: a request in flight is cut off (daphne kills
pending application instances, django/daphne#177), and the process still waits for the
thread of a sync view that is running before it exits. On sockets it is given, prodserver's
daphne stops gracefully (the tests at the end).
"""

from __future__ import annotations

import http.client
import shlex
import signal
import subprocess
import sys

import pytest

from tests.servers.test_inherited_sockets import listener, start_on
from tests.support import (
    Running,
    free_port,
    get,
    is_a_last_answer,
    request_in_flight,
    seconds_an_idle_connection_stays_open_after_sigterm,
    served_on_an_idle_connection_after_sigterm,
)

DAPHNE = "django_prodserver.backends.daphne.DaphneServer"
STOP_BOUND = 8.0  # the target is 2 s
# What `daphne` itself exits with on SIGTERM (measured with `python -m daphne`).
DAPHNE_SIGTERM_STATUS = 0

pytestmark = pytest.mark.server


def start(project, started, *args, env=None):
    server = project.start("prodserver", "web", *args, env=env)
    started.append(server)
    return server


def test_serves_sync_and_async_views_and_stops_on_sigterm(make_project, port, started):
    project = make_project({"web": {"BACKEND": DAPHNE, "ARGS": {"port": port}}})
    settings = project.manage("diffsettings").stdout
    assert "WSGI_APPLICATION" in settings
    assert "ASGI_APPLICATION" not in settings
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    assert get(f"127.0.0.1:{port}", "/async/") == (200, "Hello from an async view.\n")

    code, seconds = server.stop(signal.SIGTERM)

    assert code == DAPHNE_SIGTERM_STATUS, server.output
    assert seconds < STOP_BOUND, server.output
    assert server.wait_for_no_process_left() == []
    assert "Traceback" not in server.output


def test_the_dry_run_line_run_by_hand_is_the_same_server(make_project, port, started):
    project = make_project({"web": {"BACKEND": DAPHNE, "ARGS": {"port": port}}})
    dry_run = project.manage("prodserver", "web", "--dry-run").stdout.strip()
    assert dry_run == f"daphne --port={port} exampleproject.asgi:application"
    by_hand = subprocess.Popen(
        [sys.executable, "-m", *shlex.split(dry_run)],
        cwd=project.directory,
        env=project.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    server = Running(by_hand, project.directory / "unused.log")
    started.append(server)
    server.wait_until_serving(f"127.0.0.1:{port}", "/async/")
    code, _ = server.stop(signal.SIGTERM)
    assert code == DAPHNE_SIGTERM_STATUS


def test_a_request_in_flight_is_cut_off(make_project, port, started):
    """daphne's shutdown kills the request; it exits once the sync view's thread is done."""
    project = make_project({"web": {"BACKEND": DAPHNE, "ARGS": {"port": port}}})
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    thread, outcome = request_in_flight(f"127.0.0.1:{port}")

    code, seconds = server.stop(signal.SIGTERM)
    thread.join(30)

    assert [type(item) for item in outcome] == [http.client.RemoteDisconnected], server.output
    assert "Killed 1 pending application instances" in server.output
    assert code == DAPHNE_SIGTERM_STATUS
    assert seconds < STOP_BOUND  # it waits for the view's thread: about 1.5 s here
    assert server.wait_for_no_process_left() == []


def test_unix_socket(make_project, started, tmp_path):
    socket_path = tmp_path / "daphne.sock"
    project = make_project({"web": {"BACKEND": DAPHNE, "ARGS": {"unix_socket": str(socket_path)}}})
    server = start(project, started)
    server.wait_until_serving(f"unix:{socket_path}", "/async/")
    assert get(f"unix:{socket_path}")[0] == 200
    code, seconds = server.stop(signal.SIGTERM)
    assert code == DAPHNE_SIGTERM_STATUS
    assert seconds < STOP_BOUND


def test_port_from_the_environment(make_project, port, started):
    project = make_project({"web": {"BACKEND": DAPHNE}})
    server = start(project, started, env={"PORT": str(port)})
    server.wait_until_serving(f"127.0.0.1:{port}")


def test_an_override_from_the_command_line(make_project, port, started):
    project = make_project({"web": {"BACKEND": DAPHNE, "ARGS": {"port": 1}}})
    server = start(project, started, f"--port={port}")
    server.wait_until_serving(f"127.0.0.1:{port}")


def test_a_bad_option_stops_before_starting(make_project):
    project = make_project({"web": {"BACKEND": DAPHNE, "ARGS": {"port": "eighty"}}})
    result = project.manage("prodserver", "web")
    assert result.returncode != 0
    assert "argument -p/--port: invalid int value: 'eighty'" in result.stderr
    assert "Traceback" not in result.stderr


# On sockets it is given (the runner's, systemd's), prodserver's daphne stops gracefully
# (serving.daphne_drain): what a rolling reload and `systemctl restart` rely on.


def start_on_a_given_socket(make_project, started, sock):
    project = make_project({"web": {"BACKEND": DAPHNE, "ARGS": {"port": free_port()}}})
    server = start_on(project, [sock], systemd=False)
    started.append(server)
    host, port = sock.getsockname()
    server.wait_until_serving(f"{host}:{port}")
    return server, (host, port)


def test_on_a_given_socket_a_request_in_flight_finishes(make_project, started):
    with listener(f"127.0.0.1:{free_port()}") as sock:
        server, (host, port) = start_on_a_given_socket(make_project, started, sock)
        thread, outcome = request_in_flight(f"{host}:{port}")

        code, seconds = server.stop(signal.SIGTERM)
        thread.join(30)

    assert outcome == [(200, "slept 2.0\n")], server.output
    assert "Killed 0 pending application instances" in server.output
    assert code == DAPHNE_SIGTERM_STATUS
    assert seconds < STOP_BOUND


@pytest.mark.parametrize("served_before", [True, False], ids=["kept-alive", "fresh"])
def test_on_a_given_socket_an_idle_connection_is_still_served_once(
    make_project, started, served_before
):
    with listener(f"127.0.0.1:{free_port()}") as sock:
        server, address = start_on_a_given_socket(make_project, started, sock)
        answer, rest = served_on_an_idle_connection_after_sigterm(server, address, served_before)
        code = server.popen.wait(30)

    assert is_a_last_answer(answer, rest), (answer, rest)
    assert code == DAPHNE_SIGTERM_STATUS, server.output


def test_on_a_given_socket_an_idle_connection_closes_when_the_linger_ends(make_project, started):
    with listener(f"127.0.0.1:{free_port()}") as sock:
        server, address = start_on_a_given_socket(make_project, started, sock)
        closed_after = seconds_an_idle_connection_stays_open_after_sigterm(server, address)
        code = server.popen.wait(30)

    print(f"daphne closed an idle connection {closed_after:.2f} s after SIGTERM (linger 2 s)")
    assert 1.0 < closed_after < STOP_BOUND, server.output
    assert code == DAPHNE_SIGTERM_STATUS, server.output
