"""Compare `manage.py prodserver web` (A) with the `gunicorn` command it stands for (B).

A runs gunicorn inside the `manage.py` process: Django and the URLconf are loaded in
the master before it forks, so the workers share those pages. B is the command line
that `manage.py prodserver web --dry-run` prints, run as a plain command: every worker
imports Django on its own.

Both run alternately (A B A B ...) with the same options, on 127.0.0.1 and a fresh free
port each time. Each run measures:

1. time from Popen to the first HTTP 200 on `/` (polled every 10 ms),
2. requests/s from `wrk -t2 -c32 -d<duration>s` after a discarded 2 s warm-up,
3. PSS of the master plus all its descendants, and of the master alone, read from
   /proc/PID/smaps_rollup right after the wrk run,
4. time from SIGTERM to the master's exit (and whether any process is left).

The report gives, per metric, the median of A, the median of B, and the median, min and
max of the ratios A/B taken round by round. It is printed as markdown and written to
bench/results/gunicorn-<worker class>.md.

Run from the repository root (Linux only; needs wrk: `apt-get install wrk`):

    .venv/bin/python bench/gunicorn_vs_command.py [--rounds 5] [--worker-class sync]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "example"
RESULTS = REPO / "bench" / "results"
HOST = "127.0.0.1"
SETTINGS = "exampleproject.settings"
PORT_PLACEHOLDER = "PORT"

START_TIMEOUT = 60.0  # seconds until the first 200, per server
STOP_TIMEOUT = 60.0  # seconds from SIGTERM until the master exits (graceful timeout is 30)
POLL_INTERVAL = 0.010
WARMUP_SECONDS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 32
PAUSE_BETWEEN_RUNS = 1.0

VARIANTS = ("A", "B")
VARIANT_NAMES = {"A": "manage.py prodserver web", "B": "gunicorn (the --dry-run line)"}


class BenchError(RuntimeError):
    """A run that could not be measured; the message says why."""


@dataclass(frozen=True)
class Options:
    rounds: int
    workers: int
    worker_class: str
    duration: int

    def server_overrides(self, port: int) -> list[str]:
        return [
            f"--bind={HOST}:{port}",
            f"--workers={self.workers}",
            f"--worker-class={self.worker_class}",
        ]


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    state: str
    ppid: int
    pgrp: int
    starttime: int


@dataclass
class WrkResult:
    requests_per_s: float
    errors: list[str] = field(default_factory=list)
    p99_ms: float | None = None  # the "99%" line of wrk's latency distribution (`latency=True`)


@dataclass
class RunResult:
    variant: str
    round: int
    first_response_s: float
    requests_per_s: float
    total_pss_kib: int
    master_pss_kib: int
    processes: int
    stop_s: float
    left_over: list[int]
    wrk_errors: list[str]


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    digits: int
    scale: float = 1.0
    target: str = ""
    target_met: Callable[[float], bool] | None = None

    def value(self, run: RunResult) -> float:
        return float(getattr(run, self.key)) * self.scale


METRICS = (
    Metric(
        "first_response_s",
        "time to first 200",
        "s",
        2,
        target="<= 1.2x",
        target_met=lambda ratio: ratio <= 1.2,
    ),
    Metric(
        "requests_per_s",
        "throughput",
        "req/s",
        0,
        target=">= 0.97x",
        target_met=lambda ratio: ratio >= 0.97,
    ),
    Metric(
        "total_pss_kib",
        "total memory (PSS, master + workers)",
        "MiB",
        1,
        scale=1 / 1024,
        target="<= 0.8x",
        target_met=lambda ratio: ratio <= 0.8,
    ),
    Metric("master_pss_kib", "master memory (PSS)", "MiB", 1, scale=1 / 1024),
    Metric("stop_s", "stop time (SIGTERM to exit)", "s", 2),
)


# --- environment ------------------------------------------------------------------------


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk not found: install it with `apt-get install wrk`.")
    return wrk


def venv_gunicorn() -> str:
    # Next to sys.executable without resolving symlinks: the venv's bin/ folder.
    script = Path(sys.executable).parent / "gunicorn"
    if not script.exists():
        sys.exit(f"{script} not found: run this with the project's venv python.")
    return str(script)


def find_free_port() -> int:
    """A port the kernel hands out for port 0, checked to have no listener."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((HOST, 0))
            port = int(probe.getsockname()[1])
        if not something_listens(port):
            return port
    raise BenchError("no free port found in 20 tries")


def something_listens(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((HOST, port)) == 0


def server_env(run_dir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GUNICORN_CMD_ARGS", None)  # both variants would read it; keep runs reproducible
    runtime_dir = run_dir / "xdg"
    runtime_dir.mkdir(mode=0o700)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "XDG_RUNTIME_DIR": str(runtime_dir),  # gunicorn 27's control socket goes here
            "EXAMPLE_DATABASE": str(run_dir / "db.sqlite3"),
            "EXAMPLE_BIND": f"{HOST}:{port}",
        }
    )
    return env


# --- the two commands ---------------------------------------------------------------------


def command_a(options: Options, port: int) -> list[str]:
    return [sys.executable, "manage.py", "prodserver", "web", *options.server_overrides(port)]


def command_b(options: Options, port: int, env: dict[str, str]) -> list[str]:
    """The `--dry-run` line for the same overrides, with the venv's gunicorn script."""
    dry_run = [sys.executable, "manage.py", "prodserver", "--dry-run", "web"]
    dry_run += options.server_overrides(port)
    printed = subprocess.run(
        dry_run, cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if printed.returncode != 0:
        raise BenchError(f"--dry-run failed ({printed.returncode}): {printed.stderr.strip()}")
    argv = shlex.split(printed.stdout.strip())
    if not argv or argv[0] != "gunicorn":
        raise BenchError(f"--dry-run printed no gunicorn command: {printed.stdout!r}")
    return [venv_gunicorn(), *argv[1:]]


def command_for(variant: str, options: Options, port: int, env: dict[str, str]) -> list[str]:
    return command_a(options, port) if variant == "A" else command_b(options, port, env)


def shown(argv: list[str], port: int) -> str:
    """argv as a shell line, paths relative to the repository, the port as PORT."""
    words = [os.path.relpath(word, EXAMPLE) if word.startswith("/") else word for word in argv]
    return shlex.join(words).replace(f"{HOST}:{port}", f"{HOST}:{PORT_PLACEHOLDER}")


# --- /proc --------------------------------------------------------------------------------


def read_proc(pid: int) -> ProcInfo | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # Field 2 (comm) may hold spaces and parentheses: split after its closing one.
    fields = text[text.rindex(")") + 2 :].split()
    return ProcInfo(
        pid=pid,
        state=fields[0],
        ppid=int(fields[1]),
        pgrp=int(fields[2]),
        starttime=int(fields[19]),
    )


def all_processes() -> list[ProcInfo]:
    found = (read_proc(int(name)) for name in os.listdir("/proc") if name.isdigit())
    return [info for info in found if info is not None]


def descendants(root: int) -> list[ProcInfo]:
    """Children of root (workers), their children, and so on, found by ppid."""
    by_parent: dict[int, list[ProcInfo]] = {}
    for info in all_processes():
        by_parent.setdefault(info.ppid, []).append(info)
    found: list[ProcInfo] = []
    parents = [root]
    while parents:
        children = by_parent.get(parents.pop(), [])
        found.extend(children)
        parents.extend(child.pid for child in children)
    return found


def pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0  # gone between listing and reading
    match = re.search(r"^Pss:\s+(\d+) kB$", text, re.MULTILINE)
    if match is None:
        raise BenchError(f"no Pss line in /proc/{pid}/smaps_rollup")
    return int(match.group(1))


def still_running(seen: list[ProcInfo]) -> list[int]:
    """Those of `seen` that still exist (same pid and start time) and are not zombies."""
    left = []
    for before in seen:
        now = read_proc(before.pid)
        if now is not None and now.starttime == before.starttime and now.state != "Z":
            left.append(before.pid)
    return left


def group_members(pgrp: int) -> list[int]:
    return [info.pid for info in all_processes() if info.pgrp == pgrp and info.state != "Z"]


def package_versions(names: Sequence[str]) -> str:
    """`name 1.2.3, other (not installed)`: the installed version of each distribution."""
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def load_text(load: tuple[float, float, float]) -> str:
    """The load averages over 1, 5 and 15 minutes, as `0.12 / 0.34 / 0.56`."""
    return " / ".join(f"{value:.2f}" for value in load)


def left_over(pid: int, children: list[ProcInfo]) -> list[int]:
    """What is still alive of `children` or of the process group `pid` led."""
    return sorted(set(still_running(children)) | set(group_members(pid)))


def wait_until_gone(pid: int, children: list[ProcInfo], grace: float) -> float | None:
    """Seconds until nothing of the process is left; None if something outlives `grace`."""
    started_at = time.monotonic()
    while left_over(pid, children):
        if time.monotonic() - started_at > grace:
            return None
        time.sleep(0.05)
    return time.monotonic() - started_at


# --- one server ---------------------------------------------------------------------------


@contextmanager
def started_server(
    argv: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start argv in its own session; whatever is left of its group is killed on the way out."""
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            argv,
            cwd=EXAMPLE,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # the access log: one line per request
            stderr=stderr,
            start_new_session=True,
        )
        try:
            yield server
        finally:
            kill_group(server)


def kill_group(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None or group_members(server.pid):
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        print(f"warning: pid {server.pid} survived SIGKILL for 10 s", file=sys.stderr)


def wait_for_first_200(server: subprocess.Popen[bytes], port: int, started_at: float) -> float:
    deadline = started_at + START_TIMEOUT
    while True:
        if server.poll() is not None:
            raise BenchError(f"the server exited with code {server.returncode} before serving")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BenchError(f"no HTTP 200 on / within {START_TIMEOUT:.0f} s")
        if get_status(port, timeout=remaining) == 200:
            return time.monotonic() - started_at
        time.sleep(POLL_INTERVAL)


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


# wrk prints latencies with these units (src/units.c); the factor converts to milliseconds.
WRK_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


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


def stop(server: subprocess.Popen[bytes]) -> float:
    started_at = time.monotonic()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired as late:
        raise BenchError(
            f"the master did not exit within {STOP_TIMEOUT:.0f} s of SIGTERM"
        ) from late
    return time.monotonic() - started_at


def measure_run(variant: str, round_number: int, options: Options, wrk: str) -> RunResult:
    port = find_free_port()
    with tempfile.TemporaryDirectory(prefix=f"bench-{variant}-") as tmp:
        run_dir = Path(tmp)
        env = server_env(run_dir, port)
        argv = command_for(variant, options, port, env)
        log = run_dir / "server.log"
        try:
            with started_server(argv, env, log) as server:
                started_at = time.monotonic()
                first_response = wait_for_first_200(server, port, started_at)
                run_wrk(wrk, port, WARMUP_SECONDS)
                load = run_wrk(wrk, port, options.duration)
                children = descendants(server.pid)
                master_pss = pss_kib(server.pid)
                total_pss = master_pss + sum(pss_kib(child.pid) for child in children)
                stop_s = stop(server)
                left = left_over(server.pid, children)
        except BenchError as error:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise BenchError(f"{variant} round {round_number}: {error}\n{tail}") from error
    return RunResult(
        variant=variant,
        round=round_number,
        first_response_s=first_response,
        requests_per_s=load.requests_per_s,
        total_pss_kib=total_pss,
        master_pss_kib=master_pss,
        processes=1 + len(children),
        stop_s=stop_s,
        left_over=left,
        wrk_errors=load.errors,
    )


def run_rounds(options: Options, wrk: str) -> list[RunResult]:
    runs: list[RunResult] = []
    for round_number in range(1, options.rounds + 1):
        for variant in VARIANTS:
            run = measure_run(variant, round_number, options, wrk)
            print(progress_line(run), file=sys.stderr, flush=True)
            runs.append(run)
            time.sleep(PAUSE_BETWEEN_RUNS)
    return runs


def progress_line(run: RunResult) -> str:
    return (
        f"round {run.round} {run.variant}: first 200 {run.first_response_s:.2f} s, "
        f"{run.requests_per_s:.0f} req/s, PSS {run.total_pss_kib / 1024:.1f} MiB "
        f"(master {run.master_pss_kib / 1024:.1f}, {run.processes} processes), "
        f"stop {run.stop_s:.2f} s, left over {run.left_over or 'none'}"
    )


# --- report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    metric: Metric
    median_a: float
    median_b: float
    ratio_median: float
    ratio_min: float
    ratio_max: float


def summarize(runs: list[RunResult], metric: Metric) -> Summary:
    by_round: dict[int, dict[str, RunResult]] = {}
    for run in runs:
        by_round.setdefault(run.round, {})[run.variant] = run
    pairs = [(pair["A"], pair["B"]) for pair in by_round.values() if len(pair) == 2]
    values_a = [metric.value(a) for a, _ in pairs]
    values_b = [metric.value(b) for _, b in pairs]
    ratios = [a / b for a, b in zip(values_a, values_b, strict=True) if b]
    return Summary(
        metric,
        statistics.median(values_a),
        statistics.median(values_b),
        statistics.median(ratios),
        min(ratios),
        max(ratios),
    )


def summary_table(summaries: list[Summary]) -> list[str]:
    lines = [
        "| metric | A: manage.py prodserver (median) | B: gunicorn (median) "
        "| A/B (median of pairs) | A/B min | A/B max | target | met |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in summaries:
        metric = row.metric
        met = (
            ""
            if metric.target_met is None
            else ("yes" if metric.target_met(row.ratio_median) else "**no**")
        )
        lines.append(
            f"| {metric.label} ({metric.unit}) | {row.median_a:.{metric.digits}f} "
            f"| {row.median_b:.{metric.digits}f} | {row.ratio_median:.3f}x "
            f"| {row.ratio_min:.3f}x | {row.ratio_max:.3f}x | {metric.target} | {met} |"
        )
    return lines


def rounds_table(runs: list[RunResult]) -> list[str]:
    lines = [
        "| round | run | first 200 (s) | req/s | total PSS (MiB) | master PSS (MiB) "
        "| processes | stop (s) | left over | wrk errors |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.round} | {run.variant} | {run.first_response_s:.2f} "
            f"| {run.requests_per_s:.0f} "
            f"| {run.total_pss_kib / 1024:.1f} | {run.master_pss_kib / 1024:.1f} | {run.processes} "
            f"| {run.stop_s:.2f} | {', '.join(map(str, run.left_over)) or 'none'} "
            f"| {'; '.join(run.wrk_errors) or 'none'} |"
        )
    return lines


def machine_lines() -> list[str]:
    return [
        f"- nproc: {len(os.sched_getaffinity(0))} (CPU: {cpu_model()})",
        f"- kernel: {platform.system()} {platform.release()}",
        f"- python: {platform.python_version()} ({sys.executable})",
        f"- gunicorn {metadata.version('gunicorn')}, Django {metadata.version('django')}"
        + gevent_version(),
        f"- wrk: {wrk_version()}",
    ]


def cpu_model() -> str:
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


def gevent_version() -> str:
    try:
        return f", gevent {metadata.version('gevent')}"
    except metadata.PackageNotFoundError:
        return ""


def wrk_version() -> str:
    done = subprocess.run(
        [require_wrk(), "-v"], capture_output=True, text=True, timeout=10, check=False
    )
    first = (done.stdout or done.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"


def report(options: Options, runs: list[RunResult], commands: dict[str, str]) -> str:
    summaries = [summarize(runs, metric) for metric in METRICS]
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# manage.py prodserver vs gunicorn: {options.worker_class} workers",
        "",
        f"Date: {now}. {options.rounds} rounds, A B alternating, {options.workers} workers, "
        f"worker class `{options.worker_class}`.",
        "",
        "Machine:",
        "",
        *machine_lines(),
        "",
        "Commands (cwd `example/`, PORT a free port on 127.0.0.1, new each run; env "
        f"`DJANGO_SETTINGS_MODULE={SETTINGS}`, a fresh `XDG_RUNTIME_DIR` and `EXAMPLE_DATABASE` "
        "per run; stdout, the access log, goes to /dev/null):",
        "",
        f"- A: `{commands['A']}`",
        f"- B: `{commands['B']}` (the line `prodserver web --dry-run` prints for the same options)",
        f"- load: `wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{options.duration}s "
        f"http://127.0.0.1:PORT/` after a discarded `-d{WARMUP_SECONDS}s` warm-up",
        "",
        "Time to first 200: Popen until the first HTTP 200 on `/`, polled every 10 ms. "
        "Memory: sum of `Pss:` in /proc/PID/smaps_rollup of the master and all its "
        "descendants, read right after the wrk run. Stop: SIGTERM to the master until it exits. "
        "A/B is computed round by round, then the median, min and max of those ratios are shown.",
        "",
        *summary_table(summaries),
        "",
        "Every round:",
        "",
        *rounds_table(runs),
        "",
    ]
    return "\n".join(lines)


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="A B pairs to run (default 5)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread", "gevent"),
        default="sync",
        help="gunicorn worker class (default sync)",
    )
    parser.add_argument(
        "--duration", type=int, default=10, help="seconds of each measured wrk run (default 10)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.workers < 1 or args.duration < 1:
        parser.error("--rounds, --workers and --duration must be at least 1")
    return Options(args.rounds, args.workers, args.worker_class, args.duration)


def main() -> int:
    if not Path("/proc/self/smaps_rollup").exists():
        sys.exit("needs Linux with /proc/PID/smaps_rollup (kernel 4.14 or later).")
    options = parse_options()
    wrk = require_wrk()
    sample_port = find_free_port()
    with tempfile.TemporaryDirectory(prefix="bench-cmd-") as tmp:
        env = server_env(Path(tmp), sample_port)
        commands = {
            variant: shown(command_for(variant, options, sample_port, env), sample_port)
            for variant in VARIANTS
        }
    try:
        runs = run_rounds(options, wrk)
    except BenchError as error:
        print(f"benchmark aborted: {error}", file=sys.stderr)
        return 1
    text = report(options, runs, commands)
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = RESULTS / f"gunicorn-{options.worker_class}.md"
    output.write_text(text)
    print(text)
    print(f"written to {output.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
