"""Brokers the test suite starts for itself: a `redis-server` on a free loopback port, and a
PostgreSQL cluster of its own (Debian's package: `initdb` in a temporary folder)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support import free_port


def redis_ping(port: int, password: str | None = None) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            if password is not None:
                connection.sendall(f"AUTH {password}\r\n".encode())
                if not connection.recv(64).startswith(b"+OK"):
                    return False
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(directory: Path, password: str | None = None) -> Iterator[str]:
    """A throw-away redis-server that keeps nothing on disk; yields its URL.

    With a `password`, the server requires it, and the URL holds it.
    """
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError(
            "The worker tests need redis-server on PATH: apt-get install redis-server "
            "(scripts/test installs it when it can)."
        )
    port = free_port()
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            *(["--requirepass", password] if password is not None else []),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while not redis_ping(port, password):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {port}")
            time.sleep(0.02)
        yield f"redis://{f':{password}@' if password is not None else ''}127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def postgres_binaries() -> Path | None:
    """The folder of `initdb` and `postgres`: Debian keeps them out of PATH, per version."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parts[-3])
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


@contextmanager
def postgres_server() -> Iterator[dict[str, str]]:
    """A throw-away PostgreSQL cluster on a unix socket of its own; yields its connection.

    PostgreSQL refuses to run as root: run as root (CI), the cluster belongs to the
    `postgres` account that Debian's package creates. It listens on no TCP port, keeps
    nothing past the test (fsync off) and is stopped with a fast shutdown.
    """
    binaries = postgres_binaries()
    if binaries is None:
        raise RuntimeError(
            "The procrastinate tests need PostgreSQL's initdb and postgres: apt-get install "
            "postgresql (scripts/test installs it when it can)."
        )
    account = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    user, group = (account.pw_uid, account.pw_gid) if account else (None, None)
    # Under /tmp itself: pytest's folders are the root account's only.
    directory = Path(tempfile.mkdtemp(prefix="prodserver-pg-"))
    data, sockets = directory / "data", directory / "sockets"
    sockets.mkdir()
    if account is not None:
        for path in (directory, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
    port = free_port()
    process = None
    try:
        subprocess.run(
            [str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "prodserver",
             "--no-sync", "--no-instructions"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, user=user, group=group,
        )  # fmt: skip
        process = subprocess.Popen(
            [str(binaries / "postgres"), "-D", str(data), "-k", str(sockets), "-p", str(port),
             "-c", "listen_addresses=", "-c", "fsync=off", "-c", "full_page_writes=off"],
            stdout=subprocess.DEVNULL, stderr=(directory / "server.log").open("w"),
            user=user, group=group,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while not (sockets / f".s.PGSQL.{port}").exists() or not _accepts(binaries, sockets, port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (directory / "server.log").read_text()
                raise RuntimeError(f"PostgreSQL did not start on {sockets}:{port}:\n{log}")
            time.sleep(0.05)
        yield {"HOST": str(sockets), "PORT": str(port), "USER": "prodserver", "NAME": "postgres"}
    finally:
        if process is not None:
            process.send_signal(signal.SIGINT)  # fast shutdown: clients are disconnected
            process.wait(30)
        shutil.rmtree(directory, ignore_errors=True)


def _accepts(binaries: Path, sockets: Path, port: int) -> bool:
    ready = binaries / "pg_isready"
    if not ready.exists():
        return True
    command = [str(ready), "-q", "-h", str(sockets), "-p", str(port), "-U", "prodserver"]
    return subprocess.run(command, check=False).returncode == 0
