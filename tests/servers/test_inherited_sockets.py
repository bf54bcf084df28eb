"""Each web server serving on sockets it inherited, from systemd or from the runner.

systemd's side is `systemd-socket-activate` (Debian's systemd package): it binds, then
execs `manage.py prodserver web` with LISTEN_FDS and LISTEN_PID, as PID 1 does for a
.socket unit. The runner's side is DJANGO_PRODSERVER_LISTEN_FDS with the sockets passed at
their numbers. The restart tests bind the socket themselves, as systemd does, start a
server on it, and restart it under load: no connection may be refused, no request fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.load import LoadClient, LoadResult
from tests.support import MANAGE, REPO, Project, Running, free_port, get

pytestmark = pytest.mark.server

BACKENDS = "django_prodserver.backends"
HOME = "Hello from django-prodserver's example project.\n"
# Each server, configured on an address of its own (`{port}`, `{path}`): inherited sockets
# must replace it. Two workers where the server has them: the sockets reach every worker.
SERVERS: dict[str, tuple[str, dict[str, object]]] = {
    "gunicorn": (f"{BACKENDS}.gunicorn.GunicornServer", {"bind": "127.0.0.1:{port}", "workers": 2}),
    "uvicorn": (f"{BACKENDS}.uvicorn.UvicornServer", {"port": "{port}", "workers": 2}),
    "hypercorn": (
        f"{BACKENDS}.hypercorn.HypercornServer",
        {"bind": "127.0.0.1:{port}", "workers": 2},
    ),
    "daphne": (f"{BACKENDS}.daphne.DaphneServer", {"port": "{port}"}),
    "waitress": (f"{BACKENDS}.waitress.WaitressServer", {"listen": "127.0.0.1:{port}"}),
}
# Becomes systemd for `manage.py`: the sockets passed at the fds of TEST_FDS move to 3, 4,
# ..., and LISTEN_PID is this PID, which the exec keeps.
AS_SYSTEMD = (
    "import fcntl, os, sys\n"
    "fds = [int(fd) for fd in os.environ.pop('TEST_FDS').split(',')]\n"
    "high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]\n"
    "for index, fd in enumerate(high):\n"
    "    os.dup2(fd, 3 + index)\n"
    "    os.close(fd)\n"
    "os.environ.update(LISTEN_FDS=str(len(fds)), LISTEN_PID=str(os.getpid()))\n"
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
)
SOCKET_ACTIVATE = shutil.which("systemd-socket-activate")
needs_socket_activate = pytest.mark.skipif(
    SOCKET_ACTIVATE is None, reason="systemd-socket-activate (Debian's systemd) is missing"
)


def project_for(make_project: Callable[..., Project], server: str, configured_port: int) -> Project:
    backend, args = SERVERS[server]
    filled = {
        key: value.format(port=configured_port) if isinstance(value, str) else value
        for key, value in args.items()
    }
    if server == "uvicorn":
        filled["port"] = configured_port
    # An ENV makes `prodserver web` exec itself once with it set: the sockets must survive.
    env = {"DEPLOYED_BY": "socket tests"}
    return make_project({"web": {"BACKEND": backend, "ARGS": filled, "ENV": env}})


def listener(address: str) -> socket.socket:
    """A listening socket bound as systemd binds one for ListenStream=ADDRESS."""
    if address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(address[len("unix:") :])
    else:
        host, _, port = address.rpartition(":")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
    sock.listen(128)
    return sock


def start_on(
    project: Project, sockets: list[socket.socket], *, systemd: bool, log_name: str = "server"
) -> Running:
    """`manage.py prodserver web` given `sockets`, the systemd way or the runner's."""
    fds = ",".join(str(sock.fileno()) for sock in sockets)
    command = [str(MANAGE), "prodserver", "web"]
    if systemd:
        argv = [sys.executable, "-c", AS_SYSTEMD, *command]
        extra = {"TEST_FDS": fds}
    else:
        argv = [sys.executable, *command]
        extra = {"DJANGO_PRODSERVER_LISTEN_FDS": fds}
    log = project.directory / f"{log_name}-{time.monotonic_ns()}.log"
    with log.open("w") as output:
        popen = subprocess.Popen(
            argv,
            cwd=project.directory,
            env=project.env(extra),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=[sock.fileno() for sock in sockets],
        )
    return Running(popen, log)


def wait_for_answer(server: Running, address: str) -> None:
    """The first answer on `address`: the inherited socket holds the request meanwhile."""
    server.wait_until_serving(address, timeout=60)


def assert_not_listening(port: int) -> None:
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))


@needs_socket_activate
@pytest.mark.parametrize("server", SERVERS)
def test_systemd_socket_activation_over_tcp(make_project, started, server):
    configured, activated = free_port(), free_port()
    project = project_for(make_project, server, configured)
    address = f"127.0.0.1:{activated}"
    passed = [f"--setenv={name}" for name in project.env() if name.isupper() or name == "HOME"]
    running = project.start(
        "prodserver", "web", wrapper=(str(SOCKET_ACTIVATE), f"--listen={address}", *passed)
    )
    started.append(running)
    assert running.wait_for_output("Listening on"), running.output

    # systemd-socket-activate execs the server when the first connection comes.
    assert get(address, timeout=60) == (200, HOME), running.output
    assert get(address) == (200, HOME)

    assert_not_listening(configured)
    assert f"web: serving on the socket(s) systemd passed (fd 3: {address}) instead of" in (
        running.output
    )
    code, _ = running.stop(signal.SIGTERM)
    assert code in (0, -signal.SIGTERM), running.output
    assert "Traceback" not in running.output


@needs_socket_activate
@pytest.mark.parametrize("server", ["gunicorn", "uvicorn", "waitress"])
def test_systemd_socket_activation_over_a_unix_socket(make_project, started, server, tmp_path):
    project = project_for(make_project, server, free_port())
    path = tmp_path / "web.sock"
    passed = [f"--setenv={name}" for name in project.env() if name.isupper() or name == "HOME"]
    running = project.start(
        "prodserver", "web", wrapper=(str(SOCKET_ACTIVATE), f"--listen={path}", *passed)
    )
    started.append(running)
    assert running.wait_for_output("Listening on"), running.output

    assert get(f"unix:{path}", timeout=60) == (200, HOME), running.output
    assert get(f"unix:{path}") == (200, HOME)
    running.stop(signal.SIGTERM)
    assert "Traceback" not in running.output


@pytest.mark.parametrize("server", SERVERS)
def test_runner_sockets_two_tcp_and_a_unix_socket_all_answer(
    make_project, started, server, tmp_path
):
    configured = free_port()
    project = project_for(make_project, server, configured)
    public, private = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    path = tmp_path / "private.sock"
    sockets = [listener(public), listener(private), listener(f"unix:{path}")]
    running = start_on(project, sockets, systemd=False)
    started.append(running)
    for sock in sockets:
        sock.close()  # the server holds them now

    wait_for_answer(running, public)
    for address in (public, private, f"unix:{path}"):
        for _ in range(4):  # every worker's turn, likely
            assert get(address) == (200, HOME), (address, running.output)
    assert_not_listening(configured)
    assert "web: serving on the socket(s) the runner passed (fd " in running.output
    running.stop(signal.SIGTERM)
    assert "Traceback" not in running.output


def test_granian_refuses_sockets_from_systemd(make_project, started):
    project = make_project({"web": {"BACKEND": f"{BACKENDS}.granian.GranianWSGIServer"}})
    with listener(f"127.0.0.1:{free_port()}") as sock:
        running = start_on(project, [sock], systemd=True)
        code = running.popen.wait(60)

    assert code != 0
    output = running.output
    assert "Process 'web': systemd passed it listening sockets (fd 3: 127.0.0.1:" in output
    assert "granian cannot serve on an inherited socket" in output
    assert "SO_REUSEPORT" in output
    assert "Traceback" not in output


def test_a_file_descriptor_that_is_no_listening_socket_is_refused(make_project, tmp_path):
    project = project_for(make_project, "gunicorn", free_port())
    unbound = socket.socket()
    with (tmp_path / "a-file").open("w") as a_file, unbound:
        for fd, problem in (
            (a_file.fileno(), "is not a socket"),
            (unbound.fileno(), "is a socket that does not listen"),
        ):
            result = subprocess.run(
                [sys.executable, str(MANAGE), "prodserver", "web"],
                cwd=project.directory,
                env=project.env({"DJANGO_PRODSERVER_LISTEN_FDS": str(fd)}),
                capture_output=True,
                text=True,
                timeout=60,
                pass_fds=[fd],
            )
            assert result.returncode != 0
            assert f"DJANGO_PRODSERVER_LISTEN_FDS names fd {fd}, which {problem}" in result.stderr
            assert "Traceback" not in result.stderr
    result = project.manage("prodserver", "web", env={"DJANGO_PRODSERVER_LISTEN_FDS": "99"})
    assert "names fd 99, which is not open in this process" in result.stderr
    result = project.manage("prodserver", "web", env={"DJANGO_PRODSERVER_LISTEN_FDS": "seven"})
    assert "expected the numbers of the inherited file descriptors" in result.stderr


def test_dry_run_shows_the_inherited_sockets(make_project):
    project = project_for(make_project, "gunicorn", free_port())
    with listener(f"127.0.0.1:{free_port()}") as sock:
        fd = sock.fileno()
        result = subprocess.run(
            [sys.executable, str(MANAGE), "prodserver", "web", "--dry-run"],
            cwd=project.directory,
            env=project.env({"DJANGO_PRODSERVER_LISTEN_FDS": str(fd)}),
            capture_output=True,
            text=True,
            timeout=60,
            pass_fds=[fd],
        )
    assert result.returncode == 0, result.stderr
    assert f"--bind=fd://{fd}" in result.stdout
    assert "127.0.0.1:" not in result.stdout.split("--bind")[1]


def losses_allowed(server: str) -> int:
    """Requests a restart may fail or leave to a client's retry. None: each server's stop
    finishes and lingers (serving/). hypercorn's workers still lose a request in about half
    of the restarts on Python 3.10, two at most in a dozen runs (docs/backend-hypercorn.md);
    its linger has tests of its own (tests/servers/test_hypercorn.py)."""
    return 4 if server == "hypercorn" else 0


def restart_under_load(project: Project, address: str, systemd: bool) -> tuple[LoadResult, str]:
    """Serve on one socket, restart the server (SIGTERM, then a new one) under load."""
    sock = listener(address)
    first = start_on(project, [sock], systemd=systemd, log_name="first")
    second: Running | None = None
    try:
        wait_for_answer(first, address)
        # A request waits in the queue while the new server starts: seconds on a busy machine.
        with LoadClient(address, threads=6, timeout=60) as load:
            load.wait_for_ok(50)
            first.popen.send_signal(signal.SIGTERM)
            # The socket stays open here (systemd's copy): connections queue in its backlog.
            second = start_on(project, [sock], systemd=systemd, log_name="second")
            first.popen.wait(60)
            before = load.result.ok
            deadline = time.monotonic() + 60
            while load.result.ok < before + 50 and time.monotonic() < deadline:
                time.sleep(0.05)
        result = load.result
        return result, first.output + second.output
    finally:
        sock.close()
        for running in (first, second):
            if running is not None:
                running.kill()


@pytest.mark.parametrize("server", SERVERS)
def test_a_restart_under_load_refuses_no_connection(make_project, server):
    project = project_for(make_project, server, free_port())
    address = f"127.0.0.1:{free_port()}"

    result, output = restart_under_load(project, address, systemd=True)

    print(f"{server}: restart under load: {result.summary()}")
    for error in result.errors[:5]:
        print(f"  {error}")
    assert result.refused == 0, output
    assert result.failed + result.retried <= losses_allowed(server), (result.errors, output)
    assert result.ok > 100, output
    assert "Traceback" not in output


@pytest.mark.parametrize("server", SERVERS)
def test_a_restart_under_load_on_a_unix_socket_refuses_no_connection(
    make_project, server, tmp_path
):
    """The socket's file stays where systemd made it when a server stops (gunicorn would
    remove it: prodserver keeps it)."""
    project = project_for(make_project, server, free_port())
    path = tmp_path / "web.sock"

    result, output = restart_under_load(project, f"unix:{path}", systemd=False)

    print(f"{server} (unix socket): restart under load: {result.summary()}")
    for error in result.errors[:5]:
        print(f"  {error}")
    assert result.refused == 0, output
    assert result.failed + result.retried <= losses_allowed(server), (result.errors, output)
    assert result.ok > 100, output


@pytest.mark.parametrize(
    ("backend", "refusal"),
    [
        (f"{BACKENDS}.dev.django_runserver.DjangoRunserver", "a development server cannot"),
        ("tests.unit.backends.custom.EchoBackend", "it is a worker process, which serves no HTTP"),
    ],
)
def test_processes_that_cannot_serve_a_socket_refuse_it(make_project, backend, refusal):
    project = make_project({"web": {"BACKEND": backend}})
    with listener(f"127.0.0.1:{free_port()}") as sock:
        fd = sock.fileno()
        result = subprocess.run(
            [sys.executable, str(MANAGE), "prodserver", "web"],
            cwd=project.directory,
            env=project.env(
                {"DJANGO_PRODSERVER_LISTEN_FDS": str(fd), "PYTHONPATH": pythonpath(project)}
            ),
            capture_output=True,
            text=True,
            timeout=60,
            pass_fds=[fd],
        )
    assert result.returncode != 0
    assert f"Process 'web': the runner passed it listening sockets (fd {fd}: 127.0.0.1:" in (
        result.stderr
    )
    assert refusal in result.stderr
    assert "Traceback" not in result.stderr


def pythonpath(project: Project) -> str:
    """The project's path, and the repository's: the tests' own backends."""
    return os.pathsep.join([project.env()["PYTHONPATH"], str(REPO)])


@needs_socket_activate
def test_daphne_in_installed_apps_still_gets_systemd_s_socket(make_project, started):
    """daphne's app imports Twisted while Django sets up, and Twisted deletes LISTEN_FDS."""
    configured, activated = free_port(), free_port()
    backend, _ = SERVERS["daphne"]
    project = make_project(
        {"web": {"BACKEND": backend, "ARGS": {"port": configured}}},
        extra='INSTALLED_APPS = ["daphne", *INSTALLED_APPS]\n'
        'ASGI_APPLICATION = "exampleproject.asgi.application"',
    )
    address = f"127.0.0.1:{activated}"
    passed = [f"--setenv={name}" for name in project.env() if name.isupper() or name == "HOME"]
    running = project.start(
        "prodserver", "web", wrapper=(str(SOCKET_ACTIVATE), f"--listen={address}", *passed)
    )
    started.append(running)
    assert running.wait_for_output("Listening on"), running.output

    assert get(address, timeout=60) == (200, HOME), running.output
    assert_not_listening(configured)
    running.stop(signal.SIGTERM)
