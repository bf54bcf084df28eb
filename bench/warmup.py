"""The first request after a start, with and without HEALTH['WARMUP'].

For gunicorn (2 sync workers) and waitress, the same process is started with WARMUP on (A)
and off (B), alternately over `--rounds`. Each run waits until the server accepts a TCP
connection (no HTTP request before the measured one), then times one GET of `/` (the first
request), then a second one (the steady state, for comparison). The warm-up request goes
to the same path, `/`. The report gives the medians and writes bench/results/warmup.md.

Run from the repository root:

    .venvs/newest/bin/python bench/warmup.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import http.client
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import EXAMPLE, HOST, RESULTS, BenchError
from harness.commands import server_env
from harness.processes import find_free_port, kill_tree, log_on_failure, start
from harness.tables import markdown_table, publish, report_head

START_TIMEOUT = 60.0
SERVERS = {
    "gunicorn": (
        "django_prodserver.backends.gunicorn.GunicornServer",
        '{"bind": "127.0.0.1:%(port)d", "workers": 2}',
    ),
    "waitress": (
        "django_prodserver.backends.waitress.WaitressServer",
        '{"listen": "127.0.0.1:%(port)d", "threads": 4}',
    ),
}
SETTINGS = """\
from exampleproject.settings import *  # noqa

PRODUCTION_PROCESSES = {{
    "web": {{
        "BACKEND": "{backend}",
        "ARGS": {args},
        "HEALTH": {{"PATH": "/", "WARMUP": {warmup}}},
    }},
}}
"""


def wait_until_accepting(port: int, server: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError("the server exited before it listened")
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.005)
    raise BenchError(f"not listening after {timeout:.0f} s")


def timed_get(port: int) -> float:
    """Milliseconds of one GET / on a new connection."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", "/", headers={"Host": "localhost"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise BenchError(f"GET / answered {response.status}")
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000


def one_run(server: str, warmup: bool, folder: Path) -> tuple[float, float]:
    backend, args = SERVERS[server]
    port = find_free_port()
    run_dir = Path(tempfile.mkdtemp(dir=folder))
    (run_dir / "bench_settings.py").write_text(
        SETTINGS.format(backend=backend, args=args % {"port": port}, warmup=warmup)
    )
    env = server_env(run_dir, port)
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    env["PYTHONPATH"] = f"{run_dir}:{EXAMPLE}:{env.get('PYTHONPATH', '')}"
    log = run_dir / "server.log"
    with log_on_failure(log, f"{server} warmup={warmup}"):
        process = start(
            [sys.executable, "manage.py", "prodserver", "web"], env, log, discard_stdout=True
        )
        try:
            wait_until_accepting(port, process, START_TIMEOUT)
            return timed_get(port), timed_get(port)
        finally:
            kill_tree(process, [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    rows = []
    with tempfile.TemporaryDirectory() as temporary:
        for server in SERVERS:
            results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
            for _ in range(rounds):
                for warmup in (True, False):
                    results[warmup].append(one_run(server, warmup, Path(temporary)))
            for warmup in (True, False):
                first = statistics.median(run[0] for run in results[warmup])
                second = statistics.median(run[1] for run in results[warmup])
                spread = ", ".join(f"{run[0]:.1f}" for run in results[warmup])
                rows.append(
                    f"{server} | {'on' if warmup else 'off'} | {first:.1f} | {second:.1f} "
                    f"| {spread}"
                )
    lines = [
        *report_head(
            "First request after a start, with and without warm-up",
            f"{rounds} rounds per server and setting, alternating on and off; each run waits "
            f"for the port to accept, then times GET / twice on new connections "
            f"(`python bench/warmup.py --rounds {rounds}`).",
            ["django", "gunicorn", "waitress"],
        ),
        "",
        *markdown_table(
            "server | WARMUP | first GET / (ms, median) | second GET / (ms, median) "
            "| first GET / of every round (ms)",
            "llrrl",
            rows,
        ),
        "",
    ]
    publish("\n".join(lines), RESULTS / "warmup.md")


if __name__ == "__main__":
    main()
