"""HTTP: waiting for a server's first 200, and loads with wrk."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness import HOST, BenchError
from harness.processes import kill_tree, log_on_failure, start

START_TIMEOUT = 60.0  # seconds until the first 200, per server
POLL_INTERVAL = 0.010
WARMUP_SECONDS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 32
# wrk prints latencies with these units (src/units.c); the factor converts to milliseconds.
WRK_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def get_status(port: int, timeout: float) -> int | None:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def wait_for_200(
    port: int,
    timeout: float,
    *,
    server: subprocess.Popen[bytes] | None = None,
    request_timeout: float | None = None,
    poll: float = POLL_INTERVAL,
) -> float | None:
    """Seconds from now to the first HTTP 200 on `/`; None if none within `timeout`.

    A `server` that exits first is a BenchError. Without `request_timeout` one request may
    take all the time left: a server's first response can be slow, and asking again would
    only add to it.
    """
    started_at = time.monotonic()
    deadline = started_at + timeout
    while True:
        if server is not None and server.poll() is not None:
            raise BenchError(f"the server exited with code {server.returncode} before serving")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        if get_status(port, timeout=request_timeout or remaining) == 200:
            return time.monotonic() - started_at
        time.sleep(poll)


@contextmanager
def serving(
    argv: Sequence[str], env: dict[str, str], log: Path, port: int, label: str
) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """The server under test and the seconds from its start to its first HTTP 200.

    Its stdout (the access log) is discarded, its stderr goes to `log`; its process group
    is killed on the way out, and a BenchError raised inside gets `label` and the log's tail.
    """
    with log_on_failure(log, label):
        server = start(argv, env, log, discard_stdout=True)
        try:
            seconds = wait_for_200(port, START_TIMEOUT, server=server)
            if seconds is None:
                raise BenchError(f"no HTTP 200 on / within {START_TIMEOUT:.0f} s")
            yield server, seconds
        finally:
            kill_tree(server, [])


# --- wrk ------------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests_per_s: float
    errors: list[str] = field(default_factory=list)
    p99_ms: float | None = None  # the "99%" line of wrk's latency distribution (`latency=True`)


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk not found: install it with `apt-get install wrk`.")
    return wrk


def wrk_version() -> str:
    done = subprocess.run(
        [require_wrk(), "-v"], capture_output=True, text=True, timeout=10, check=False
    )
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"


def run_wrk(wrk: str, port: int, seconds: int, path: str = "/", latency: bool = False) -> WrkResult:
    """wrk on http://HOST:port/path; with `latency`, also the 99th percentile (--latency)."""
    argv = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{seconds}s",
        *(["--latency"] if latency else []),
        f"http://{HOST}:{port}{path}",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    match = re.search(r"^Requests/sec:\s+([\d.]+)", done.stdout, re.MULTILINE)
    if done.returncode != 0 or match is None:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    errors = [
        line.strip()
        for line in done.stdout.splitlines()
        if line.strip().startswith(("Socket errors:", "Non-2xx or 3xx responses:"))
    ]
    p99 = None
    if latency:
        line = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$", done.stdout, re.MULTILINE)
        if line is None:
            raise BenchError(f"no 99% line in wrk's latency distribution: {done.stdout}")
        p99 = float(line.group(1)) * WRK_TIME_UNITS_MS[line.group(2)]
    return WrkResult(float(match.group(1)), errors, p99)
