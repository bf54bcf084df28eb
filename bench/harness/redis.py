"""A redis-server of a run's own, on a free port; never the system's Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness import HOST, BenchError
from harness.processes import find_free_port, kill_tree, start


def redis_ping(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(run_dir: Path) -> Iterator[str]:
    """A redis-server keeping nothing on disk, its log in `run_dir`; yields its URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        raise BenchError("redis-server is not on PATH")
    port = find_free_port()
    argv = [executable, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    process = start([*argv, "--dir", str(run_dir)], None, run_dir / "redis.log")
    try:
        deadline = time.monotonic() + 10
        while not redis_ping(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"redis-server did not start on port {port}")
            time.sleep(0.02)
        yield f"redis://{HOST}:{port}/0"
    finally:
        kill_tree(process, [])


def redis_version() -> str:
    executable = shutil.which("redis-server")
    if executable is None:
        return "not found"
    done = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, timeout=10, check=False
    )
    return done.stdout.strip() or "unknown"
