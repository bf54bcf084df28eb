"""The development backends through `prodserver`, for real on loopback.

Each of runserver, Werkzeug's server and daphne's runserver serves the example project
with its reloader on, and SIGTERM stops the whole process tree (reloader and server).
A settings file naming every BACKEND path passes `check` and `migrate`. django-prodserver
3.0's own shapes serve too: its `RunserverPlus`, and daphne's runserver without "daphne"
in INSTALLED_APPS.
"""

from __future__ import annotations

import signal
import time

import pytest

from tests.support import get

PATHS = {
    "runserver": "django_prodserver.backends.dev.django_runserver.DjangoRunserver",
    "runserver-old": "django_prodserver.backends.django_runserver.DjangoRunserver",
    "werkzeug": "django_prodserver.backends.dev.werkzeug.WerkzeugRunserver",
    "werkzeug-old": "django_prodserver.backends.werkzeug.WerkzeugRunserver",
    "daphne": "django_prodserver.backends.dev.daphne.DaphneRunserver",
    "daphne-old": "django_prodserver.backends.daphne.DaphneRunserver",
    "runserverplus": "django_prodserver.backends.dev.werkzeug.RunserverPlus",
    "runserverplus-old": "django_prodserver.backends.werkzeug.RunserverPlus",
}
ASGI_ONLY = 'ASGI_APPLICATION = "exampleproject.asgi.application"'
WITH_DAPHNE = (
    'INSTALLED_APPS = ["daphne", *INSTALLED_APPS]\n'
    'ASGI_APPLICATION = "exampleproject.asgi.application"'
)
HOME = "Hello from django-prodserver's example project.\n"
# The target is about a second; the bound is several times that.
STOP_BOUND = 10.0

pytestmark = pytest.mark.server


@pytest.fixture
def make_dev_project(make_project):
    def make(processes, daphne=True):
        return make_project(processes, WITH_DAPHNE if daphne else "")

    return make


def serve(make_dev_project, started, path, address, args=None, daphne=None):
    # daphne's runserver replaces Django's, so runserver's project goes without daphne.
    web = {"BACKEND": path, "ARGS": {"addrport": address, **(args or {})}}
    project = make_dev_project({"web": web}, daphne="daphne" in path if daphne is None else daphne)
    server = project.start("prodserver", "web")
    started.append(server)
    server.wait_until_serving(address)
    return project, server


def stops_cleanly(server):
    code, seconds = server.stop(signal.SIGTERM)
    print(f"stopped {seconds:.2f} s after SIGTERM")
    assert seconds < STOP_BOUND, server.output
    assert server.wait_for_no_process_left() == [], server.output
    assert code == 0, server.output


@pytest.mark.parametrize("name", ["runserver", "daphne"])
def test_runserver_serves_and_stops_on_sigterm(make_dev_project, started, port, name):
    address = f"127.0.0.1:{port}"
    _, server = serve(make_dev_project, started, PATHS[name], address)
    assert get(address) == (200, HOME)
    assert server.wait_for_process_count(2) == 2  # the autoreloader and its server
    assert ("ASGI/Daphne" in server.output) == (name == "daphne"), server.output
    stops_cleanly(server)


@pytest.mark.parametrize("name", ["daphne", "daphne-old"])
def test_daphne_runserver_serves_without_daphne_in_installed_apps(
    make_project, started, port, name
):
    """As a django-prodserver 3.0 project has it: ASGI_APPLICATION set, no "daphne" app."""
    address = f"127.0.0.1:{port}"
    web = {"BACKEND": PATHS[name], "ARGS": {"addrport": address}}
    project = make_project({"web": web}, ASGI_ONLY)
    server = project.start("prodserver", "web")
    started.append(server)
    server.wait_until_serving(address)
    assert get(address) == (200, HOME)
    assert "ASGI/Daphne" in server.output, server.output
    assert server.wait_for_process_count(2) == 2  # the autoreloader and its server
    stops_cleanly(server)


@pytest.mark.parametrize("name", ["runserverplus", "runserverplus-old"])
def test_runserver_plus_serves_as_werkzeug(make_dev_project, started, port, name):
    """django-prodserver 3.0's `RunserverPlus`: Werkzeug's server, with its debugger."""
    address = f"127.0.0.1:{port}"
    _, server = serve(make_dev_project, started, PATHS[name], address, daphne=False)
    assert get(address) == (200, HOME)
    status, body = get(address, "/?__debugger__=yes&cmd=resource&f=style.css")
    assert (status, "font-family" in body) == (200, True)
    stops_cleanly(server)


def test_runserver_restarts_after_a_file_changes(make_dev_project, started, port):
    address = f"127.0.0.1:{port}"
    project, server = serve(make_dev_project, started, PATHS["runserver"], address)
    settings_file = project.directory / "test_settings.py"
    time.sleep(1.5)  # the reloader takes the files' times once it has started
    settings_file.write_text(settings_file.read_text() + "\n# changed\n")
    deadline = time.monotonic() + 30
    starting = "development server at"  # Django 4.2 leaves out "WSGI"
    while server.output.count(starting) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.output.count(starting) == 2, server.output  # a new server, same address
    server.wait_until_serving(address)
    assert get(address) == (200, HOME)
    stops_cleanly(server)


def test_werkzeug_serves_with_its_debugger_and_stops_on_sigterm(make_dev_project, started, port):
    address = f"127.0.0.1:{port}"
    _, server = serve(make_dev_project, started, PATHS["werkzeug"], address, {"threaded": True})
    assert get(address) == (200, HOME)
    # The debugger's own files are served only when DebuggedApplication wraps the app.
    status, body = get(address, "/?__debugger__=yes&cmd=resource&f=style.css")
    assert status == 200
    assert "font-family" in body
    assert server.wait_for_process_count(2) == 2  # Werkzeug's reloader and its server
    stops_cleanly(server)


def test_werkzeug_without_reloader_or_debugger(make_dev_project, started, port):
    address = f"127.0.0.1:{port}"
    args = {"use_reloader": False, "use_debugger": False}
    _, server = serve(make_dev_project, started, PATHS["werkzeug-old"], address, args)
    assert get(address) == (200, HOME)
    assert get(address, "/?__debugger__=yes&cmd=resource&f=style.css")[0] == 200
    assert len(server.session_pids()) == 1
    stops_cleanly(server)


def test_a_settings_file_naming_every_path_passes_check_and_migrate(make_dev_project):
    project = make_dev_project({name: {"BACKEND": path} for name, path in PATHS.items()})
    for command in (["check"], ["migrate", "--verbosity=0"], ["prodserver", "--list"]):
        result = project.manage(*command)
        assert result.returncode == 0, result.stdout + result.stderr
    listing = result.stdout.splitlines()
    for name, path in PATHS.items():
        assert any(row.split()[:3] == [name, "web", path] for row in listing), result.stdout
