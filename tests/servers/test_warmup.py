"""HEALTH['WARMUP']: gunicorn and waitress serve the health path once before they listen, so the
first real request finds the application loaded and its view already run."""

from __future__ import annotations

import http.client

import pytest

from tests.support import free_port

pytestmark = pytest.mark.server
GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
WAITRESS = "django_prodserver.backends.waitress.WaitressServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"


def answered_before(port: int) -> str:
    """/healthz/'s count of the requests its process answered before this one."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/healthz/", headers={"Host": "localhost"})
        response = connection.getresponse()
        response.read()
        return str(response.getheader("X-Answered-Before"))
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("backend", "args", "listening"),
    [
        (GUNICORN, lambda port: {"bind": f"127.0.0.1:{port}", "workers": 1}, "Listening at"),
        (WAITRESS, lambda port: {"listen": f"127.0.0.1:{port}"}, "Serving on"),
    ],
)
@pytest.mark.parametrize("warmup", [True, False])
def test_the_first_request_finds_the_view_served_once(
    make_project, started, backend, args, listening, warmup
):
    port = free_port()
    health = {"PATH": "/healthz/", "WARMUP": warmup}
    project = make_project({"web": {"BACKEND": backend, "ARGS": args(port), "HEALTH": health}})
    web = project.start("prodserver", "web")
    started.append(web)
    web.wait_until_serving(f"127.0.0.1:{port}", "/pid/")
    assert answered_before(port) == ("1" if warmup else "0"), web.output
    line = "Process 'web': warm-up GET /healthz/ answered 200 OK in "
    if warmup:
        # Served (with the Host ALLOWED_HOSTS takes) before the server listened.
        assert line in web.output
        assert web.output.index(line) < web.output.index(listening), web.output
    else:
        assert "warm-up" not in web.output
    code, _ = web.stop()
    assert code == 0, web.output


def test_a_server_that_cannot_warm_up_is_warned_about(make_project):
    project = make_project(
        {"asgi": {"BACKEND": UVICORN, "HEALTH": {"WARMUP": True}}},
    )
    result = project.manage("check", "--deploy", "--fail-level=ERROR")
    assert (
        "(prodserver.W004) Process 'asgi': HEALTH['WARMUP'] is not done by uvicorn (it loads "
        "the application in a process of its own); its first request loads the application."
    ) in result.stderr, result.stderr
