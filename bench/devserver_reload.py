"""`manage.py devserver tasks`: from a saved task module to the worker running the new code.

On a copy of the example project (its own settings, its `tasks` process: django-tasks-db's
db_worker on SQLite, polling every 0.5 s), `devserver tasks` runs the worker under its
reloader. Each round edits `jobs/database_tasks.py` (the text `record_line` records gets a
new suffix) and measures, from the moment the file is written:

1. seen: until the reloader says the file changed;
2. new worker: until the new worker says "Starting worker" (it then claims a task within
   its 0.5 s polling interval);
3. then one task is enqueued and must record the new suffix: the new code runs (checked,
   not timed: enqueueing is a `manage.py shell` of its own).

With watchfiles importable, the rounds run once with it and once polling
(DJANGO_PRODSERVER_RELOADER=poll); without it, polling only. The report is printed as
markdown and written to bench/results/devserver-reload.md.

    .venv/bin/python bench/devserver_reload.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import EXAMPLE, REPO, RESULTS, BenchError
from harness.commands import environment
from harness.processes import kill_tree, start, tail, terminate
from harness.tables import load_text, markdown_table, publish, report_head

TARGET = 2.0
TIMEOUT = 60.0


def wait_for_count(log: Path, text: str, count: int, timeout: float = TIMEOUT) -> float:
    """Seconds until `text` is in the log `count` times, polled every 10 ms."""
    begun = time.monotonic()
    while (log.read_text(errors="replace") if log.exists() else "").count(text) < count:
        if time.monotonic() - begun > timeout:
            raise BenchError(f"{text!r} not seen {count} times after {timeout} s:\n{tail(log)}")
        time.sleep(0.01)
    return time.monotonic() - begun


def run_rounds(watcher: str, rounds: int) -> tuple[list[tuple[float, float]], list[float]]:
    """(seen, new worker) per round; and the start of `prodserver tasks` alone, per round."""
    with tempfile.TemporaryDirectory(prefix="devserver-bench-") as folder:
        root = Path(folder)
        example = root / "example"
        shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
        paths = [str(example), str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = environment(
            {
                "DJANGO_SETTINGS_MODULE": "exampleproject.settings",
                "EXAMPLE_DATABASE": str(root / "db.sqlite3"),
                "PYTHONPATH": os.pathsep.join(paths),
                "PYTHONUNBUFFERED": "1",
                **({"DJANGO_PRODSERVER_RELOADER": "poll"} if watcher == "polling" else {}),
            }
        )
        manage = [sys.executable, str(example / "manage.py")]
        subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True)
        log = root / "devserver.log"
        process = start([*manage, "devserver", "tasks"], env, log)
        measured = []
        alone = []
        try:
            wait_for_count(log, "Starting worker", 1)
            module = example / "jobs" / "database_tasks.py"
            effects = root / "effects.txt"
            for number in range(1, rounds + 1):
                time.sleep(1.0)  # idle, as between two saves
                text = module.read_text()
                old = "return record(path, text" + (f" + ' v{number - 1}')" if number > 1 else ")")
                module.write_text(text.replace(old, f"return record(path, text + ' v{number}')"))
                saved = time.monotonic()
                wait_for_count(log, "changed: restarting tasks", number)
                seen = time.monotonic() - saved
                wait_for_count(log, "Starting worker", number + 1)
                ready = time.monotonic() - saved
                enqueue = (
                    "from jobs.database_tasks import record_line; "
                    f"record_line.enqueue({str(effects)!r}, 'round {number}')"
                )
                subprocess.run([*manage, "shell", "-c", enqueue], env=env, check=True)
                wait_for_count(effects, f"round {number} v{number}\n", 1)
                measured.append((seen, ready))
        finally:
            stopped = terminate(process, [])
            kill_tree(process, [])
        if stopped.status != 0 or stopped.left_at_exit:
            raise BenchError(f"devserver stopped badly ({stopped}):\n{tail(log)}")
        # The worker's own start, on the same machine now: what a restart cannot go below.
        for number in range(rounds):
            worker_log = root / f"prodserver-{number}.log"
            begun = time.monotonic()
            worker = start([*manage, "prodserver", "tasks"], env, worker_log)
            wait_for_count(worker_log, "Starting worker", 1)
            alone.append(time.monotonic() - begun)
            terminate(worker, [])
            kill_tree(worker, [])
        return measured, alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    has_watchfiles = importlib.util.find_spec("watchfiles") is not None
    watchers = ["watchfiles", "polling"] if has_watchfiles else ["polling"]
    load_before = os.getloadavg()
    results = {watcher: run_rounds(watcher, arguments.rounds) for watcher in watchers}
    load_after = os.getloadavg()

    rows = []
    for watcher, (measured, alone) in results.items():
        seen = statistics.median(s for s, _ in measured)
        ready = [r for _, r in measured]
        verdict = "yes" if statistics.median(ready) < TARGET else "no"
        rows.append(
            f"{watcher} | {len(measured)} | {seen:.2f} | {statistics.median(ready):.2f} | "
            f"{min(ready):.2f} | {max(ready):.2f} | {verdict} | {statistics.median(alone):.2f}"
        )
    lines = [
        *report_head(
            "devserver: from a saved file to the worker running new code",
            "`manage.py devserver tasks` on a copy of the example project (db_worker on SQLite, "
            "polling its queue every 0.5 s); each round rewrites jobs/database_tasks.py.",
            ["Django", "django-tasks-db"],
            f"- load average (1 / 5 / 15 min), before and after: {load_text(load_before)} -> "
            f"{load_text(load_after)} (2 cores shared with other work)",
            optional=["watchfiles"],
        ),
        "",
        *markdown_table(
            "watcher | rounds | seen (median s) | new worker (median s) | min | max | "
            f"under {TARGET:g} s | `prodserver tasks` alone: start (median s)",
            "lrrrrrlr",
            rows,
        ),
        "",
        'seen: from the write of the file to the reloader\'s "changed: restarting". New worker:',
        'to the new db_worker\'s "Starting worker" line (the old one stopped gracefully first);',
        "a task enqueued then ran the new code in every round. db_worker claims a task within",
        "its polling interval (0.5 s) after that. The last column is the start of the same",
        'worker by `manage.py prodserver tasks`, to its "Starting worker" line: Python, Django',
        "with every app of the example project (all six task frameworks), the checks; a",
        "restart cannot be quicker than that plus the graceful stop of the old worker.",
        "",
    ]
    publish("\n".join(lines), RESULTS / "devserver-reload.md")


if __name__ == "__main__":
    main()
