"""Running the example project's `manage.py` for real: projects, servers, HTTP, process
trees, exported files."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django_prodserver

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "example"
MANAGE = EXAMPLE / "manage.py"
# Where the package the tests imported lives: the projects they start import the same one,
# not whichever copy the virtualenv has installed.
PACKAGE_FOLDER = Path(django_prodserver.__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_base_port(step: int = 100) -> int:
    """A free port whose neighbour `step` further on is free too (the runner's PORTs)."""
    while True:
        base = free_port()
        if base + step > 65535:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", base + step))
            except OSError:
                continue
        return base


@dataclass
class Project:
    """The example project with its own PRODUCTION_PROCESSES, in a settings module of its own."""

    directory: Path
    module: str = "test_settings"
    manage_py: Path = MANAGE

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(self.directory), str(EXAMPLE), str(PACKAGE_FOLDER)]),
            "DJANGO_SETTINGS_MODULE": self.module,
            "XDG_RUNTIME_DIR": str(self.directory),  # gunicorn's control socket, per test
            "EXAMPLE_DATABASE": str(self.directory / "db.sqlite3"),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("WEB_CONCURRENCY", None)
        env.update(extra or {})
        return env

    def manage(
        self, *args: str, timeout: float = 60, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run_whole(
            [sys.executable, str(self.manage_py), *args], self.directory, self.env(env), timeout
        )

    def shell(self, code: str, env: Mapping[str, str] | None = None) -> str:
        """Run Python code in `manage.py shell` (the project's settings loaded); its output."""
        result = self.manage("shell", "-c", code, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def manage_without(self, package: str, *args: str) -> subprocess.CompletedProcess[str]:
        """`manage.py ARGS` in an interpreter where `package` cannot be imported."""
        hide_and_run = (
            f"import runpy, sys; sys.modules[{package!r}] = None; "
            f"sys.argv = [{str(self.manage_py)!r}, *sys.argv[1:]]; "
            f"runpy.run_path({str(self.manage_py)!r}, run_name='__main__')"
        )
        return run_whole(
            [sys.executable, "-c", hide_and_run, *args], self.directory, self.env(), 60
        )

    def start(
        self, *args: str, env: Mapping[str, str] | None = None, wrapper: tuple[str, ...] = ()
    ) -> Running:
        """`manage.py ARGS` in a session of its own; `wrapper` is a command to run it under."""
        log = self.directory / f"output-{time.monotonic_ns()}.log"
        argv = [*wrapper, sys.executable, str(self.manage_py), *args]
        return start_command(argv, self.directory, self.env(env), log)

    def tables(self) -> set[str]:
        """The tables of the project's SQLite database (none before it exists)."""
        database = self.directory / "db.sqlite3"
        if not database.exists():
            return set()
        with sqlite3.connect(database) as connection:
            rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            return {name for (name,) in rows}


def start_command(argv: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path) -> Running:
    """`argv` in a session of its own (an engine, a server), its output into `log`."""
    with log.open("w") as output:
        popen = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Running(popen, log)


def write_project(directory: Path, processes: Mapping[str, Any] | str, extra: str = "") -> Project:
    """A settings module on top of the example project's, with these processes.

    `processes` is a dict (written with repr) or the Python source of its value.
    """
    source = processes if isinstance(processes, str) else repr(dict(processes))
    (directory / "test_settings.py").write_text(
        f"from exampleproject.settings import *  # noqa\nPRODUCTION_PROCESSES = {source}\n{extra}\n"
    )
    return Project(directory)


def write_documented_package(directory: Path) -> None:
    """`myproject`, the project the docs and many tests name, in `directory`: its wsgi.py and
    asgi.py hold the example project's applications (the checks look for these modules)."""
    package = directory / "myproject"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").touch()
    for kind in ("wsgi", "asgi"):
        (package / f"{kind}.py").write_text(
            f"from exampleproject.{kind} import application  # noqa: F401\n"
        )


def export_files(project: Project, format: str, output: Path, *args: str) -> list[Path]:
    """Run `prodserver --export FORMAT --output OUTPUT ARGS`; the files it says it wrote."""
    # The repository on the path too: some tests' processes use the tests' own backends.
    path = os.pathsep.join(map(str, [project.directory, EXAMPLE, REPO, PACKAGE_FOLDER]))
    result = project.manage(
        "prodserver", "--export", format, f"--output={output}", *args, env={"PYTHONPATH": path}
    )
    assert result.returncode == 0, result.stderr
    written = [Path(line.removeprefix("Wrote ")) for line in result.stdout.splitlines()]
    assert written, result.stdout
    assert all(path.is_file() for path in written), result.stdout
    return written


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def get(address: str, path: str = "/", timeout: float = 10) -> tuple[int, str]:
    """GET over TCP (`127.0.0.1:PORT`) or a unix socket (`unix:/path`)."""
    if address.startswith("unix:"):
        connection: http.client.HTTPConnection = UnixHTTPConnection(address[5:], timeout)
    else:
        host, port = address.rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "localhost"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def request_in_flight(address: str, seconds: float = 2) -> tuple[threading.Thread, list[object]]:
    """GET `/slow/?seconds=N` in a thread, returned once the view is serving it.

    The list receives the answer, or the OSError the request ended with.
    """
    outcome: list[object] = []

    def ask() -> None:
        try:
            outcome.append(get(address, f"/slow/?seconds={seconds:g}", timeout=30))
        except OSError as error:
            outcome.append(error)

    thread = threading.Thread(target=ask)
    thread.start()
    time.sleep(0.5)  # the view is now sleeping in its thread
    return thread, outcome


def served_once(connection: socket.socket, path: str = "/") -> bytes:
    """A GET on an open connection and its whole answer (headers, Content-Length body)."""
    connection.settimeout(10)
    connection.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        assert chunk, received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, received
        body += chunk
    return head + b"\r\n\r\n" + body


def read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or 10 s pass)."""
    connection.settimeout(10)
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def served_on_an_idle_connection_after_sigterm(
    server: Running, address: tuple[str, int], served_before: bool
) -> tuple[bytes, bytes]:
    """The keep-alive close race: a connection open (served once, or not yet) when the server
    gets SIGTERM, which sends a request on it half a second later. The answer, and whatever
    follows it until the server closes the connection."""
    idle = socket.create_connection(address)
    try:
        if served_before:
            assert served_once(idle).startswith(b"HTTP/1.1 200")
        time.sleep(0.3)  # accepted by now
        server.popen.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the server has begun its stop
        return served_once(idle), read_until_closed(idle)
    finally:
        idle.close()


def is_a_last_answer(answer: bytes, rest: bytes = b"") -> bool:
    """A 200 that says `Connection: close`, with nothing after it (`rest`, read until the
    server closed the connection): how a lingering server answers as it stops."""
    closing = b"\r\nconnection: close" in answer.partition(b"\r\n\r\n")[0].lower()
    return answer.startswith(b"HTTP/1.1 200") and closing and rest == b""


def seconds_an_idle_connection_stays_open_after_sigterm(
    server: Running, address: tuple[str, int]
) -> float:
    """From SIGTERM to the server closing, without a word, a kept-alive connection that sends
    nothing more (the server's linger)."""
    idle = socket.create_connection(address)
    try:
        assert served_once(idle).startswith(b"HTTP/1.1 200")
        signalled_at = time.monotonic()
        server.popen.send_signal(signal.SIGTERM)
        assert read_until_closed(idle) == b""
        return time.monotonic() - signalled_at
    finally:
        idle.close()


def run_whole(
    argv: list[str], cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run `argv` to its end, its output captured; on a timeout, kill all it started.

    A command expected to end that starts a server or a worker would otherwise leave its
    processes running after a failed test.
    """
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for pid in session_members(process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def session_members(session: int) -> list[int]:
    """Processes alive in the session `session` leads (zombies do not count)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, member_of = fields[0], int(fields[3])
        if member_of == session and state != "Z":
            alive.append(int(entry.name))
    return alive


@dataclass
class Running:
    """A `manage.py` process started in a session of its own."""

    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_serving(self, address: str, path: str = "/", timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise AssertionError(f"exited with {self.popen.returncode}:\n{self.output}")
            try:
                status, body = get(address, path, timeout=5)
            except OSError:
                time.sleep(0.05)
                continue
            if status == 200:
                return body
            time.sleep(0.05)
        raise AssertionError(f"not serving {address} after {timeout} s:\n{self.output}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> tuple[int, float]:
        """Send `sig`; the exit status and the seconds until the process ended."""
        started = time.monotonic()
        self.popen.send_signal(sig)
        code = self.popen.wait(timeout)
        return code, time.monotonic() - started

    def session_pids(self) -> list[int]:
        """Processes still alive in this process's session (zombies do not count)."""
        return session_members(self.popen.pid)

    def has_become(self, module: str) -> bool:
        """Whether manage.py has exec'd the server's program, `python -m module`."""
        try:
            argv = (Path("/proc") / str(self.popen.pid) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return module.encode() in argv

    def wait_for_output(self, text: str, timeout: float = 30) -> bool:
        """Wait until `text` is in the output; whether it came."""
        deadline = time.monotonic() + timeout
        while text not in self.output and time.monotonic() < deadline:
            time.sleep(0.05)
        return text in self.output

    def wait_for_process_count(self, count: int, timeout: float = 20) -> int:
        """Wait until the session holds `count` processes (a master and its workers)."""
        deadline = time.monotonic() + timeout
        while len(self.session_pids()) != count and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(self.session_pids())

    def wait_for_no_process_left(self, timeout: float = 10) -> list[int]:
        deadline = time.monotonic() + timeout
        while (left := self.session_pids()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return left

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)


# The code the web process serves: a URL conf the test rewrites between reloads. Read at
# import, so only a new process serves a new version.
RELOADABLE_VIEWS = """
from django.http import HttpResponse
from django.urls import path

VERSION = {version!r}


def version(request):
    return HttpResponse(VERSION)


def healthz(request):
    return HttpResponse("ok" if {healthy!r} else "broken", status=200 if {healthy!r} else 503)


urlpatterns = [path("", version), path("healthz", healthz)]
"""
RELOADABLE_SETTINGS = 'ROOT_URLCONF = "reload_urls"\n'


def write_views(project: Project, version: str, healthy: bool = True) -> None:
    (project.directory / "reload_urls.py").write_text(
        RELOADABLE_VIEWS.format(version=version, healthy=healthy)
    )
