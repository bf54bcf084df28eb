"""A rolling reload under load, per web server: what the clients see.

For each server, `manage.py prodserver --all` runs one web process (one worker process of
the server, `HEALTH` at /healthz) under the runner, which holds its socket. wrk sends GETs on
16 keep-alive connections (2 threads):

- before: 5 s of load, its 99th percentile latency;
- during: 10 s of load; 2 s in, the code the view serves is changed and the runner gets
  SIGHUP. Measured: the requests wrk counts as failed (read, write and timeout errors,
  non-2xx answers) and refused (connect errors), the seconds from SIGHUP to the runner's
  `Reload done` (the new child passed its health check, the old one is asked to stop), and
  to the first answer of the new code, and the 99th percentile latency of the whole run.

Each server runs `--rounds` times (3 by default); the table gives each round's figures.
The report is printed as markdown and written to bench/results/runner-reload.md.

Run from the repository root (Linux only), with the package on the path:

    PYTHONPATH=src .venv/bin/python bench/runner_reload.py [--rounds 3] [--server gunicorn ...]
"""

from __future__ import annotations

import argparse
import http.client
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import HOST, RESULTS, BenchError
from harness.commands import supervised_project
from harness.http import START_TIMEOUT, WRK_TIME_UNITS_MS, require_wrk, wait_for_200, wrk_version
from harness.processes import find_free_port, kill_tree, log_on_failure, start, tail
from harness.tables import markdown_table, publish, report_head

CONNECTIONS = 16
THREADS = 2
BEFORE_SECONDS = 5
DURING_SECONDS = 10
SIGHUP_AFTER = 2.0
RELOAD_TIMEOUT = 60.0
BACKENDS = "django_prodserver.backends"
SERVERS = {
    "gunicorn": (f"{BACKENDS}.gunicorn.GunicornServer", {"bind": "{host}:{port}", "workers": 1}),
    "uvicorn": (f"{BACKENDS}.uvicorn.UvicornServer", {"host": "{host}", "port": "{port}"}),
    "hypercorn": (f"{BACKENDS}.hypercorn.HypercornServer", {"bind": "{host}:{port}"}),
    "daphne": (f"{BACKENDS}.daphne.DaphneServer", {"bind": "{host}", "port": "{port}"}),
    "waitress": (f"{BACKENDS}.waitress.WaitressServer", {"listen": "{host}:{port}"}),
    "granian": (
        f"{BACKENDS}.granian.GranianWSGIServer",
        {"host": "{host}", "port": "{port}", "workers": 1},
    ),
}
VIEWS = """
from django.http import HttpResponse
from django.urls import path

VERSION = {version!r}


def version(request):
    return HttpResponse(VERSION)


def healthz(request):
    return HttpResponse("ok")


urlpatterns = [path("", version), path("healthz", healthz)]
"""


@dataclass(frozen=True)
class Load:
    requests: int
    failed: int
    read_errors: int  # of `failed`: connections the server closed as wrk sent on them
    refused: int
    p99_ms: float


@dataclass(frozen=True)
class Round:
    before: Load
    during: Load
    reload_s: float
    new_code_s: float


def wrk_argv(wrk: str, port: int, seconds: int) -> list[str]:
    return [
        wrk,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        f"http://{HOST}:{port}/",
    ]


def read_wrk(output: str) -> Load:
    total = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    if total is None or p99 is None:
        raise BenchError(f"cannot read wrk's output: {output}")
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    connect, read, write, timeout = (int(n) for n in errors.groups()) if errors else (0, 0, 0, 0)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed = read + write + timeout + (int(non_2xx.group(1)) if non_2xx else 0)
    p99_ms = float(p99.group(1)) * WRK_TIME_UNITS_MS[p99.group(2)]
    return Load(int(total.group(1)), failed, read, connect, p99_ms)


def body(port: int) -> str | None:
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", "/")
        return connection.getresponse().read().decode()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def one_round(wrk: str, server: str, directory: Path) -> Round:
    backend, args = SERVERS[server]
    port = find_free_port()
    filled = {key: str(value).format(host=HOST, port=port) for key, value in args.items()}
    definition = {"BACKEND": backend, "ARGS": filled, "HEALTH": {"PATH": "/healthz"}}
    settings = (
        "from exampleproject.settings import *  # noqa\n"
        f"PRODUCTION_PROCESSES = {{'web': {definition!r}}}\n"
        "ROOT_URLCONF = 'reload_urls'\n"
    )
    views = directory / "reload_urls.py"
    views.write_text(VIEWS.format(version="one"))
    env = supervised_project(directory, settings, ["web"], {"PYTHONDONTWRITEBYTECODE": "1"})
    log = directory / "runner.log"
    runner = start([sys.executable, "manage.py", "prodserver", "--all"], env, log)
    with log_on_failure(log, server):
        try:
            if wait_for_200(port, START_TIMEOUT, server=runner) is None:
                raise BenchError(f"no HTTP 200 within {START_TIMEOUT:.0f} s")
            before = subprocess.run(
                wrk_argv(wrk, port, BEFORE_SECONDS), capture_output=True, text=True, check=True
            )
            load = subprocess.Popen(
                wrk_argv(wrk, port, DURING_SECONDS), stdout=subprocess.PIPE, text=True
            )
            time.sleep(SIGHUP_AFTER)
            views.write_text(VIEWS.format(version="two"))
            sighup_at = time.monotonic()
            runner.send_signal(signal.SIGHUP)
            reload_s = new_code_s = None
            while (reload_s is None or new_code_s is None) and (
                time.monotonic() - sighup_at < RELOAD_TIMEOUT
            ):
                now = time.monotonic() - sighup_at
                if reload_s is None and "Reload done" in tail(log, 100_000):
                    reload_s = now
                if new_code_s is None and body(port) == "two":
                    new_code_s = now
                if "Reload of web failed" in tail(log, 100_000):
                    raise BenchError("the reload failed")
                time.sleep(0.02)
            during, _ = load.communicate(timeout=DURING_SECONDS + 60)
            if reload_s is None or new_code_s is None:
                raise BenchError(f"no reload within {RELOAD_TIMEOUT:.0f} s")
            return Round(read_wrk(before.stdout), read_wrk(during), reload_s, new_code_s)
        finally:
            kill_tree(runner, [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--server", action="append", choices=list(SERVERS))
    options = parser.parse_args()
    wrk = require_wrk()
    servers = options.server or list(SERVERS)
    rows = []
    for server in servers:
        for number in range(1, options.rounds + 1):
            with tempfile.TemporaryDirectory(prefix=f"reload-{server}-") as folder:
                measured = one_round(wrk, server, Path(folder))
            before, during = measured.before, measured.during
            print(f"{server} round {number}: {measured}", file=sys.stderr)
            rows.append(
                f"{server} | {number} | {during.requests} | {during.failed} "
                f"({during.read_errors}) | "
                f"{during.refused} | {measured.reload_s:.2f} | {measured.new_code_s:.2f} | "
                f"{before.p99_ms:.1f} | {during.p99_ms:.1f}"
            )
    lines = [
        *report_head(
            "A rolling reload under load",
            f"wrk ({wrk_version()}) at {CONNECTIONS} keep-alive connections, {THREADS} "
            f"threads; SIGHUP {SIGHUP_AFTER:g} s into {DURING_SECONDS} s of load, after "
            f"{BEFORE_SECONDS} s of load before it. One web process of one worker "
            f"(`prodserver --all`), `HEALTH` at /healthz.",
            ["django", "gunicorn", "uvicorn", "hypercorn", "daphne", "waitress", "granian"],
        ),
        "",
        *markdown_table(
            "server | round | requests during | failed (read errors) | refused "
            "| SIGHUP to reload done (s) "
            "| SIGHUP to new code served (s) | p99 before (ms) | p99 during (ms)",
            "lrrrrrrrr",
            rows,
        ),
        "",
        "failed: wrk's read, write and timeout errors and non-2xx answers (in brackets: the "
        "read errors among them); refused: its connect errors. wrk counts as a read error a "
        "keep-alive connection that the old server closes, as it stops, while wrk sends a "
        "request on it, and does not send that request again: at most one per connection "
        f"({CONNECTIONS}). A client that sends again a request whose connection closed "
        "before any answer (browsers and HTTP libraries do, for an idempotent request; "
        "tests/load.py does) sees none of those.",
    ]
    publish("\n".join(lines) + "\n", RESULTS / "runner-reload.md")


if __name__ == "__main__":
    try:
        main()
    except BenchError as error:
        sys.exit(f"error: {error}")
