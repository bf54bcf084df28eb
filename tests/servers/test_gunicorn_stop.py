"""SIGTERM stops gunicorn promptly, lets a request in flight finish, and leaves nothing behind."""

from __future__ import annotations

import signal
import socket
import time

import pytest

from tests.support import free_port, get, request_in_flight

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
# The target is 2 s (bench/ measures it); the bound is several times that.
STOP_BOUND = 8.0

pytestmark = pytest.mark.server


@pytest.mark.parametrize("worker_class", ["sync", "gthread", "gevent"])
def test_stops_promptly_right_after_the_first_response(make_project, port, started, worker_class):
    project = make_project(
        {
            "web": {
                "BACKEND": GUNICORN,
                "ARGS": {"bind": f"127.0.0.1:{port}", "workers": 4, "worker-class": worker_class},
            }
        }
    )
    server = project.start("prodserver", "web")
    started.append(server)
    server.wait_until_serving(f"127.0.0.1:{port}")

    code, seconds = server.stop(signal.SIGTERM)

    assert code == 0, server.output
    assert seconds < STOP_BOUND, server.output
    assert server.wait_for_no_process_left() == []
    assert "Traceback" not in server.output


@pytest.mark.parametrize("worker_class", ["sync", "gthread", "gevent"])
def test_a_request_in_flight_completes(make_project, port, started, worker_class):
    project = make_project(
        {
            "web": {
                "BACKEND": GUNICORN,
                "ARGS": {"bind": f"127.0.0.1:{port}", "workers": 2, "worker-class": worker_class},
            }
        }
    )
    server = project.start("prodserver", "web")
    started.append(server)
    server.wait_until_serving(f"127.0.0.1:{port}")
    request, answers = request_in_flight(f"127.0.0.1:{port}")

    code, _ = server.stop(signal.SIGTERM)
    request.join(30)

    assert answers == [(200, "slept 2.0\n")], server.output
    assert code == 0
    assert server.wait_for_no_process_left() == []


# `env` makes prodserver run gunicorn's command (serving/gunicorn_command.py), not in-process.
AS_RUN = pytest.mark.parametrize(
    "args", [{}, {"env": "A=1"}], ids=["in-process", "gunicorn-command"]
)


@AS_RUN
def test_a_gunicorn_stopping_leaves_the_control_socket_its_successor_took(
    make_project, started, args
):
    """As in a rolling reload: a second gunicorn of the same process takes over the control
    socket's path; the first one, stopped afterwards, must not remove the second one's file."""
    pytest.importorskip("gunicorn.ctl.server", reason="gunicorn 25.1 and later have one")
    old_port, new_port = free_port(), free_port()
    definition = {"BACKEND": GUNICORN, "ARGS": {"bind": "127.0.0.1:1", **args}}
    project = make_project({"web": definition})
    control = project.directory / "gunicorn.ctl"  # XDG_RUNTIME_DIR is the project's folder
    listening = f"Control socket listening at {control}"
    old = project.start("prodserver", "web", f"--bind=127.0.0.1:{old_port}")
    started.append(old)
    assert old.wait_for_output(listening), old.output
    new = project.start("prodserver", "web", f"--bind=127.0.0.1:{new_port}")
    started.append(new)
    assert new.wait_for_output(listening), new.output

    code, _ = old.stop(signal.SIGTERM)

    assert code == 0, old.output
    assert control.is_socket()
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(str(control))  # the new gunicorn's, listening
    new.stop(signal.SIGTERM)
    assert not control.exists(), new.output


@AS_RUN
def test_usr2_starts_a_new_master_that_serves(make_project, port, started, args):
    """gunicorn's USR2 runs its own command line again, beside the old master."""
    definition = {"BACKEND": GUNICORN, "ARGS": {"bind": f"127.0.0.1:{port}", **args}}
    project = make_project({"web": definition})
    server = project.start("prodserver", "web")
    started.append(server)
    server.wait_until_serving(f"127.0.0.1:{port}")

    server.popen.send_signal(signal.SIGUSR2)

    deadline = time.monotonic() + 30
    while server.output.count("Booting worker") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.output.count("Booting worker") == 2, server.output
    assert get(f"127.0.0.1:{port}")[0] == 200
    assert "Traceback" not in server.output, server.output
    code, _ = server.stop(signal.SIGTERM)  # the old master; the new one runs on
    assert code == 0, server.output
