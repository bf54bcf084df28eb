"""`prodserver --probe NAME` against real web servers: 0 while the health path answers as HEALTH
says, 1 (with the reason) when the server is stopped or answers otherwise."""

from __future__ import annotations

import pytest

from tests.support import free_port

pytestmark = pytest.mark.server
GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"


def probe(project, name):
    return project.manage("prodserver", "--probe", name, timeout=60)


def test_gunicorn_on_loopback_answers_its_health_path(make_project, started):
    port = free_port()
    project = make_project(
        {
            "web": {
                "BACKEND": GUNICORN,
                "ARGS": {"bind": f"127.0.0.1:{port}", "workers": 1},
                "HEALTH": {"PATH": "/healthz/"},
            },
            "teapot": {
                "BACKEND": GUNICORN,
                "ARGS": {"bind": f"127.0.0.1:{port}"},
                "HEALTH": {"PATH": "/healthz/", "STATUS": 204},
            },
            "strange-host": {
                "BACKEND": GUNICORN,
                "ARGS": {"bind": f"127.0.0.1:{port}"},
                "HEALTH": {"PATH": "/healthz/", "HOST": "elsewhere.example"},
            },
        }
    )
    stopped = probe(project, "web")
    assert stopped.returncode == 1, stopped.stdout
    assert stopped.stderr == (
        f"CommandError: Process 'web': no answer from http://127.0.0.1:{port}/healthz/ "
        f"(Connection refused). Is it running and listening there?\n"
    )

    web = project.start("prodserver", "web")
    started.append(web)
    web.wait_until_serving(f"127.0.0.1:{port}", "/healthz/")
    result = probe(project, "web")
    assert result.returncode == 0, result.stderr
    # The Host is ALLOWED_HOSTS' first entry, which Django lets in.
    assert result.stdout == (
        f"Process 'web': GET http://127.0.0.1:{port}/healthz/ (Host: 127.0.0.1) answered 200.\n"
    )

    wrong_status = probe(project, "teapot")
    assert wrong_status.returncode == 1
    assert "answered 200, not the 204 that HEALTH['STATUS'] expects." in wrong_status.stderr
    refused_host = probe(project, "strange-host")
    assert refused_host.returncode == 1
    assert "(Host: elsewhere.example) answered 400" in refused_host.stderr
    assert "set HEALTH['HOST']" in refused_host.stderr

    web.stop()
    after = probe(project, "web")
    assert after.returncode == 1
    assert "no answer from" in after.stderr


def test_uvicorn_on_a_unix_socket(make_project, started, tmp_path):
    socket_path = tmp_path / "asgi.sock"
    project = make_project(
        {"asgi": {"BACKEND": UVICORN, "ARGS": {"uds": str(socket_path)}, "HEALTH": {"PATH": "/"}}}
    )
    asgi = project.start("prodserver", "asgi")
    started.append(asgi)
    asgi.wait_until_serving(f"unix:{socket_path}")
    result = probe(project, "asgi")
    assert result.returncode == 0, result.stderr
    assert f"GET http+unix://{socket_path}/ (Host: 127.0.0.1) answered 200" in result.stdout

    asgi.stop()
    after = probe(project, "asgi")
    assert after.returncode == 1
    assert f"no answer from http+unix://{socket_path}/" in after.stderr


def test_a_bad_health_definition_is_named_with_every_problem(make_project):
    project = make_project(
        {"web": {"BACKEND": GUNICORN, "HEALTH": {"PATH": "healthz", "STATUS": 99, "HOTS": "x"}}}
    )
    result = probe(project, "web")
    assert result.returncode == 1
    assert result.stderr == (
        "CommandError: Process 'web': HEALTH has an unknown key 'HOTS' (did you mean 'HOST'?) "
        "(it takes PATH, STATUS, HOST, TIMEOUT, WARMUP); HEALTH['PATH'] must be a URL path "
        "starting with '/', got 'healthz'; HEALTH['STATUS'] must be an HTTP status (100 to "
        "599), got 99.\n"
        'Hint: "HEALTH": {"PATH": "/healthz", "STATUS": 200, "HOST": "example.com"}\n'
    )


def test_probe_takes_one_name(make_project):
    project = make_project({"web": {"BACKEND": GUNICORN}})
    result = project.manage("prodserver", "--probe", "web", "--all")
    assert result.returncode == 1
    assert result.stderr == (
        "CommandError: --probe asks one process, named as --probe NAME; leave out --all.\n"
    )
