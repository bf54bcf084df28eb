"""Brokers the test suite starts for itself: a `redis-server` on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
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
