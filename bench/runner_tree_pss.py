"""The memory of the runner's whole tree (A) against honcho running the same children (B).

The demo of `example/`: `manage.py prodserver web tasks` (gunicorn with 2 workers, the
database task worker), and the same with more workers beside it (`--workers N` adds
`tasks2`...`tasksN`, to see what each child costs the supervisor). B is `honcho start` with
a Procfile of the same `python manage.py prodserver NAME` lines. Only the supervisor
differs; the children are the same commands.

Once web answers and the process count has held still for a few seconds, every process of
the tree is read from /proc: the supervisor's descendants, and the members of its session
(a process that left the tree, reparented to init, still belongs to it). Each is put on one
side:

- the supervisor's own: the supervisor, and whatever it runs beside the children (the
  runner's watchdog; honcho's per-child Python processes and `/bin/sh -c` wrappers);
- the children: each `manage.py prodserver NAME` and what it started (gunicorn's workers).

The sum of `Pss:` from /proc/PID/smaps_rollup is given for each side and the whole tree,
with the ratio A/B. The report is printed as markdown and written to
bench/results/runner-tree-pss.md.

Run from the repository root (Linux only), with the package on the path:

    PYTHONPATH=src .venv/bin/python bench/runner_tree_pss.py [--rounds 3] [--workers 1 --workers 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from harness import EXAMPLE, HOST, RESULTS, BenchError
from harness.commands import supervised_project
from harness.http import START_TIMEOUT, wait_for_200
from harness.processes import (
    ProcInfo,
    all_processes,
    cmdline,
    descendants,
    find_free_port,
    kill_tree,
    pss_kib,
    require_smaps_rollup,
    start,
)
from harness.rounds import VARIANTS, alternating
from harness.tables import markdown_table, publish, ratio, report_head

# The tree has held the same processes this long: every child has started its own.
STEADY = 3.0
POLL = 0.2
CHILD = "manage.py prodserver "


@dataclass(frozen=True)
class Reading:
    variant: str
    round: int
    workers: int
    processes: int
    own_kib: int  # the supervisor and its helpers
    children_kib: int
    own_processes: tuple[str, ...]  # how each of the supervisor's own shows in `ps`, its PSS

    @property
    def total_kib(self) -> int:
        return self.own_kib + self.children_kib


@contextmanager
def project(workers: int) -> Iterator[tuple[Path, dict[str, str], int, list[str]]]:
    """A settings module with the demo's web and `workers` task workers; its environment."""
    port = find_free_port()
    tasks = ["tasks", *(f"tasks{number}" for number in range(2, workers + 1))]
    with tempfile.TemporaryDirectory(prefix="runner-pss-") as folder:
        directory = Path(folder)
        extra = "".join(
            f"PRODUCTION_PROCESSES[{name!r}] = PRODUCTION_PROCESSES['tasks']\n"
            for name in tasks[1:]
        )
        settings = (
            "from exampleproject.settings import *  # noqa\n"
            "if 'tasks' not in PRODUCTION_PROCESSES:\n"
            "    raise SystemExit('the demo needs django-tasks-db installed')\n" + extra
        )
        names = ["web", *tasks]
        env = supervised_project(
            directory,
            settings,
            names,
            {
                "EXAMPLE_BIND": f"{HOST}:{port}",
                "EXAMPLE_TASK_LOG": str(directory / "task-log.txt"),
            },
        )
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"],
            cwd=EXAMPLE,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if migrate.returncode:
            raise BenchError(f"migrate failed: {migrate.stderr}")
        yield directory, env, port, names


def supervisor_argv(variant: str, names: Sequence[str], directory: Path) -> list[str]:
    if variant == "A":
        return [sys.executable, "manage.py", "prodserver", *names]
    honcho = shutil.which("honcho", path=str(Path(sys.executable).parent)) or "honcho"
    return [honcho, "-f", str(directory / "Procfile"), "-d", str(EXAMPLE), "start", *names]


def tree(root: int) -> list[ProcInfo]:
    """The root, its descendants, and what else is in its session (reparented helpers)."""
    found = {info.pid: info for info in descendants(root)}
    for info in all_processes():
        if info.state != "Z" and session_of(info.pid) == root:
            found.setdefault(info.pid, info)
    return [info for info in found.values() if info.state != "Z"]


def session_of(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def sides(root: int, processes: Sequence[ProcInfo]) -> tuple[list[int], list[int]]:
    """The supervisor's own processes, and the children's (see the module's docstring)."""
    by_pid = {info.pid: info for info in processes}

    def is_child(pid: int) -> bool:
        while pid in by_pid and pid != root:
            info = by_pid[pid]
            line = " ".join(cmdline(pid))
            if info.ppid not in by_pid and info.ppid != root:
                return False  # left the tree: a helper reparented to init
            if CHILD in line and not line.startswith("/bin/sh"):
                return True
            pid = info.ppid
        return False

    own = [root] + [info.pid for info in processes if info.pid != root and not is_child(info.pid)]
    children = [info.pid for info in processes if info.pid != root and is_child(info.pid)]
    return own, children


def steady_tree(root: int, supervisor: subprocess.Popen[bytes], log: Path) -> list[ProcInfo]:
    """The tree once it has kept the same processes for STEADY seconds."""
    deadline = time.monotonic() + START_TIMEOUT
    seen: set[int] = set()
    since = time.monotonic()
    while time.monotonic() < deadline:
        if supervisor.poll() is not None:
            raise BenchError(f"the supervisor exited:\n{log.read_text()[-3000:]}")
        current = tree(root)
        pids = {info.pid for info in current}
        if pids != seen:
            seen, since = pids, time.monotonic()
        elif time.monotonic() - since >= STEADY:
            return current
        time.sleep(POLL)
    raise BenchError(f"the tree never held still:\n{log.read_text()[-3000:]}")


def measure(variant: str, round_number: int, workers: int) -> Reading:
    with project(workers) as (directory, env, port, names):
        log = directory / f"{variant}.log"
        supervisor = start(supervisor_argv(variant, names, directory), env, log)
        try:
            if wait_for_200(port, START_TIMEOUT, server=supervisor, request_timeout=1) is None:
                raise BenchError(f"{variant}: web never answered:\n{log.read_text()[-3000:]}")
            processes = steady_tree(supervisor.pid, supervisor, log)
            own, children = sides(supervisor.pid, processes)
            return Reading(
                variant=variant,
                round=round_number,
                workers=workers,
                processes=len(processes),
                own_kib=sum(pss_kib(pid) for pid in own),
                children_kib=sum(pss_kib(pid) for pid in children),
                own_processes=tuple(sorted(labelled(pid) for pid in own)),
            )
        finally:
            known = tree(supervisor.pid)
            with suppress(ProcessLookupError):
                supervisor.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                supervisor.wait(60)
            kill_tree(supervisor, known)


def labelled(pid: int) -> str:
    return f"{shown_in_ps(pid)} ({mib(pss_kib(pid))})"


def shown_in_ps(pid: int) -> str:
    """The command line as `ps` shows it, paths shortened to their last part."""
    words = cmdline(pid)
    return " ".join(word.rsplit("/", 1)[-1] if "/" in word else word for word in words)[:90]


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def report(readings: Sequence[Reading], rounds: int, workers: Sequence[int]) -> str:
    lines = report_head(
        "The runner's tree against honcho's: memory (PSS)",
        f"`bench/runner_tree_pss.py --rounds {rounds}"
        + "".join(f" --workers {count}" for count in workers)
        + "`. A: `manage.py prodserver web tasks...` (the runner); B: `honcho start` with a "
        "Procfile of the same `python manage.py prodserver NAME` lines. Medians over the "
        "rounds, KiB of PSS summed over the processes.",
        ["django", "gunicorn", "honcho", "django-tasks-db"],
    )
    rows = []
    for count in workers:
        medians = {}
        for variant in VARIANTS:
            chosen = [r for r in readings if r.variant == variant and r.workers == count]
            medians[variant] = (
                statistics.median(r.own_kib for r in chosen),
                statistics.median(r.children_kib for r in chosen),
                statistics.median(r.total_kib for r in chosen),
                statistics.median(r.processes for r in chosen),
            )
        (own_a, children_a, total_a, count_a), (own_b, children_b, total_b, count_b) = (
            medians["A"],
            medians["B"],
        )
        rows.append(
            f"web + {count} task worker{'s' if count > 1 else ''} | {count_a:g} / {count_b:g} "
            f"| {mib(own_a)} / {mib(own_b)} | {mib(children_a)} / {mib(children_b)} "
            f"| {mib(total_a)} / {mib(total_b)} | {ratio(total_a / total_b)}"
        )
    lines += [
        "",
        *markdown_table(
            "children | processes A / B | supervisor's own A / B | children A / B "
            "| whole tree A / B | tree A/B",
            "lrrrrr",
            rows,
        ),
        "",
        "The supervisor's own processes, as `ps` shows them, with their PSS (the last round):",
        "",
    ]
    for count in workers:
        for variant in VARIANTS:
            last = [r for r in readings if r.variant == variant and r.workers == count][-1]
            lines.append(f"- {variant}, web + {count}: " + "; ".join(last.own_processes))
    lines += [
        "",
        "## Rounds",
        "",
        *markdown_table(
            "round | variant | children | processes | own KiB | children KiB | tree KiB",
            "lllrrrr",
            (
                f"{r.round} | {r.variant} | web + {r.workers} | {r.processes} | {r.own_kib} "
                f"| {r.children_kib} | {r.total_kib}"
                for r in readings
            ),
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    require_smaps_rollup()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        help="task workers beside web (repeatable; default: 1 and 5)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "runner-tree-pss.md")
    options = parser.parse_args()
    workers = options.workers or [1, 5]
    readings = [
        measure(variant, round_number, count)
        for count in workers
        for round_number, variant in alternating(options.rounds)
    ]
    publish(report(readings, options.rounds, workers), options.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
