"""Every example of the gunicorn page (docs/backend-gunicorn.md), against a real gunicorn.

The examples bind 0.0.0.0:8000 and log under /var/log; each test keeps the example's
ARGS and replaces only those addresses and paths on the command line (an override
replaces the configured option), so the server runs on loopback.
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest

from tests.support import get

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"

pytestmark = pytest.mark.server


def web(args):
    return {"web": {"BACKEND": GUNICORN, "ARGS": args}}


def serve(project, started, address, *overrides):
    server = project.start("prodserver", "web", f"--bind={address}", *overrides)
    started.append(server)
    server.wait_until_serving(address)
    return server


def effective_config(project, *overrides):
    """gunicorn's own view of the settings (`--print-config`), as name -> value text."""
    result = project.manage("prodserver", "web", *overrides, "--print-config")
    assert result.returncode == 0, result.stderr
    return dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, flags=re.MULTILINE))


def test_minimal_setup(make_project, port, started):
    project = make_project(web({"bind": "0.0.0.0:8000"}))
    server = serve(project, started, f"127.0.0.1:{port}")
    assert get(f"127.0.0.1:{port}") == (200, "Hello from django-prodserver's example project.\n")
    assert server.stop() == (0, pytest.approx(0, abs=8))


def test_recommended_production_setup(make_project, port, started):
    args = {"bind": "0.0.0.0:8000", "workers": "4", "timeout": "60", "worker-class": "sync"}
    project = make_project(web(args))
    config = effective_config(project)
    assert (config["workers"], config["timeout"], config["worker_class"]) == ("4", "60", "sync")
    server = serve(project, started, f"127.0.0.1:{port}")
    assert server.wait_for_process_count(5) == 5  # the master and its 4 workers


def test_high_traffic_production_server(make_project, port, started, tmp_path):
    args = {
        "bind": "0.0.0.0:8000",
        "workers": "8",
        "worker-class": "gevent",
        "worker-connections": "1000",
        "timeout": "120",
        "max-requests": "1000",
        "max-requests-jitter": "100",
        "keepalive": "5",
        "accesslog": "/var/log/myapp/gunicorn-access.log",
        "errorlog": "/var/log/myapp/gunicorn-error.log",
        "loglevel": "info",
    }
    project = make_project(web(args))
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    logs = (f"--accesslog={access}", f"--errorlog={errors}")
    config = effective_config(project, *logs)
    assert {
        k: config[k]
        for k in (
            "workers",
            "worker_class",
            "worker_connections",
            "timeout",
            "max_requests",
            "max_requests_jitter",
            "keepalive",
            "loglevel",
        )
    } == {
        "workers": "8",
        "worker_class": "gevent",
        "worker_connections": "1000",
        "timeout": "120",
        "max_requests": "1000",
        "max_requests_jitter": "100",
        "keepalive": "5",
        "loglevel": "info",
    }
    server = serve(project, started, f"127.0.0.1:{port}", *logs)
    code, seconds = server.stop()
    assert (code, seconds < 8) == (0, True)
    assert '"GET / HTTP/1.1" 200' in access.read_text()
    assert "Using worker: gevent" in errors.read_text()


def test_gevent_async_workers(make_project, port, started):
    args = {
        "bind": "0.0.0.0:8000",
        "workers": "4",
        "worker-class": "gevent",
        "worker-connections": "1000",
        "timeout": "90",
    }
    server = serve(make_project(web(args)), started, f"127.0.0.1:{port}")
    assert "Using worker: gevent" in server.output
    code, seconds = server.stop()
    assert code == 0
    assert seconds < 8
    assert server.wait_for_no_process_left() == []


def test_unix_socket_binding_as_www_data(make_project, started, tmp_path):
    import pwd

    try:
        pwd.getpwnam("www-data")
    except KeyError:
        pytest.skip("no www-data user on this machine")
    args = {
        "bind": "unix:/var/run/myapp.sock",
        "workers": "4",
        "timeout": "60",
        "user": "www-data",
        "group": "www-data",
    }
    tmp_path.chmod(0o755)
    socket_path = tmp_path / "myapp.sock"
    server = serve(make_project(web(args)), started, f"unix:{socket_path}")
    status, body = get(f"unix:{socket_path}", "/pid/")
    assert status == 200
    match = re.search(r'"pid": (\d+)', body)
    assert match, body
    worker_pid = int(match[1])
    assert (tmp_path.stat().st_uid, _uid_of(worker_pid)) == (0, pwd.getpwnam("www-data").pw_uid)
    assert server.stop()[0] == 0


def _uid_of(pid):
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^Uid:\s+(\d+)", status, flags=re.MULTILINE)
    assert match, status
    return int(match[1])


def test_development_configuration_with_auto_reload(make_project, started, port, tmp_path):
    args = {
        "bind": "127.0.0.1:8000",
        "workers": "1",
        "reload": "True",
        "loglevel": "debug",
        "accesslog": "-",
    }
    (tmp_path / "reloaded_view.py").write_text(_view("before"))
    (tmp_path / "reloaded_urls.py").write_text(
        "from django.urls import path\nimport reloaded_view\n"
        "urlpatterns = [path('', reloaded_view.page)]\n"
    )
    project = make_project(web(args), extra='ROOT_URLCONF = "reloaded_urls"')
    server = serve(project, started, f"127.0.0.1:{port}")
    assert get(f"127.0.0.1:{port}") == (200, "before")
    time.sleep(2.5)  # the polling reloader must have seen the file once before it changes
    (tmp_path / "reloaded_view.py").write_text(_view("after"))
    deadline = time.monotonic() + 30
    while get(f"127.0.0.1:{port}")[1] != "after" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get(f"127.0.0.1:{port}") == (200, "after"), server.output
    assert '"GET / HTTP/1.1" 200' in server.output  # accesslog "-": to standard output
    assert "[DEBUG]" in server.output
    assert server.stop()[0] == 0


def _view(text):
    return (
        "from django.http import HttpResponse\n"
        f"def page(request):\n    return HttpResponse({text!r})\n"
    )


def test_worker_count_formula(make_project, port, started):
    import multiprocessing

    workers = multiprocessing.cpu_count() * 2 + 1
    project = make_project(web({"bind": "0.0.0.0:8000", "workers": str(workers)}))
    server = serve(project, started, f"127.0.0.1:{port}")
    assert server.wait_for_process_count(workers + 1) == workers + 1


def test_graceful_worker_restarts_after_max_requests(make_project, port, started):
    project = make_project(
        web(
            {
                "bind": "0.0.0.0:8000",
                "workers": "1",
                "max-requests": "5",
                "max-requests-jitter": "0",
            }
        )
    )
    serve(project, started, f"127.0.0.1:{port}")
    pids = set()
    for _ in range(20):
        try:
            pids.add(get(f"127.0.0.1:{port}", "/pid/")[1])
        except OSError:
            time.sleep(0.2)  # between a worker leaving and its replacement
    assert len(pids) >= 2  # the worker was replaced after 5 requests


def test_worker_timeout_lets_a_slow_request_finish(make_project, port, started):
    project = make_project(web({"bind": "0.0.0.0:8000", "timeout": "120"}))
    serve(project, started, f"127.0.0.1:{port}")
    assert get(f"127.0.0.1:{port}", "/slow/?seconds=3", timeout=30) == (200, "slept 3.0\n")


def test_a_short_timeout_kills_a_slow_worker(make_project, port, started):
    project = make_project(web({"bind": "0.0.0.0:8000", "timeout": "2"}))
    server = serve(project, started, f"127.0.0.1:{port}")
    try:
        status = get(f"127.0.0.1:{port}", "/slow/?seconds=10", timeout=30)[0]
    except OSError:
        status = None  # the connection closed by the dying worker
    assert status in (None, 500)
    assert "WORKER TIMEOUT" in server.output


def test_access_log_disabled_with_none(make_project, port, started, tmp_path):
    errors = tmp_path / "error.log"
    project = make_project(web({"accesslog": None, "errorlog": "/var/log/myapp/error.log"}))
    server = serve(project, started, f"127.0.0.1:{port}", f"--errorlog={errors}")
    get(f"127.0.0.1:{port}")
    server.stop()
    assert "GET /" not in server.output + errors.read_text()
    assert "Booting worker" in errors.read_text()


def test_keepalive_reaches_gunicorn(make_project):
    assert effective_config(make_project(web({"keepalive": "5"})))["keepalive"] == "5"


def test_capture_output_and_pidfile(make_project, port, started, tmp_path):
    errors, pidfile = tmp_path / "error.log", tmp_path / "gunicorn.pid"
    (tmp_path / "printing_urls.py").write_text(
        "from django.http import HttpResponse\nfrom django.urls import path\n"
        "def page(request):\n    print('printed by a view', flush=True)\n"
        "    return HttpResponse('ok')\nurlpatterns = [path('', page)]\n"
    )
    project = make_project(
        web({"capture-output": "True", "errorlog": str(errors), "pidfile": str(pidfile)}),
        extra='ROOT_URLCONF = "printing_urls"',
    )
    server = serve(project, started, f"127.0.0.1:{port}")
    assert int(pidfile.read_text()) == server.popen.pid  # prodserver keeps gunicorn's PID
    server.stop()
    assert "printed by a view" in errors.read_text()
    assert "printed by a view" not in server.output


def test_daemon(make_project, port, tmp_path):
    pidfile = tmp_path / "gunicorn.pid"
    project = make_project(
        web({"bind": f"127.0.0.1:{port}", "daemon": "True", "pidfile": str(pidfile)})
    )
    result = project.manage("prodserver", "web", timeout=30)
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if get(f"127.0.0.1:{port}")[0] == 200 and pidfile.exists():
                break
        except OSError:
            time.sleep(0.1)
    daemon_pid = int(pidfile.read_text())
    try:
        assert get(f"127.0.0.1:{port}")[0] == 200
    finally:
        import os

        os.kill(daemon_pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while pidfile.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not pidfile.exists()


def test_port_already_in_use(make_project, port, started):
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    try:
        project = make_project(web({"bind": f"127.0.0.1:{port}"}))
        started_at = time.monotonic()
        result = project.manage("prodserver", "web", timeout=30)
        assert time.monotonic() - started_at < 10
    finally:
        holder.close()
    assert result.returncode != 0
    assert f"Connection in use: ('127.0.0.1', {port})" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_reaches_settings_that_read_it_at_import(make_project, port, started, tmp_path):
    (tmp_path / "greeting_urls.py").write_text(
        "from django.conf import settings\nfrom django.http import HttpResponse\n"
        "from django.urls import path\n"
        "urlpatterns = [path('', lambda request: HttpResponse(settings.GREETING))]\n"
    )
    project = make_project(
        web({"env": ["GREETING=hello from env"]}),
        extra='import os\nROOT_URLCONF = "greeting_urls"\n'
        'GREETING = os.environ.get("GREETING", "unset")',
    )
    serve(project, started, f"127.0.0.1:{port}")
    assert get(f"127.0.0.1:{port}") == (200, "hello from env")
