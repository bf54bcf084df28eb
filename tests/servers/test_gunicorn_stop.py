"""SIGTERM stops gunicorn promptly, lets a request in flight finish, and leaves nothing behind."""

from __future__ import annotations

import signal

import pytest

from tests.support import request_in_flight

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
