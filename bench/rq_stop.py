"""RQ's stop right after a job: how often it hangs, and how long a stop takes.

RQ 2.2 and newer, with redis-py 8.2, now and then take up to a minute to exit on SIGTERM
(docs/backend-rq.md, "A stop that hangs"). Each round starts a worker on the example's
`default` queue, enqueues one job (`jobs.rq_tasks.record_line`), waits for the line the job
writes, sends SIGTERM at once and measures until the worker exits. A worker still running
`--hang-after` seconds after SIGTERM is a hang (its process group is killed). Variants:

- `rq worker`: RQ's own command, no Django (the reproduction to report upstream);
- `manage.py rqworker`: django-rq's command, as `prodserver` ran it before working around it;
- `manage.py prodserver rqworker`: the example's `rqworker` process, this repository's src.

With `--idle`, SIGTERM comes `--idle` seconds after the worker started instead (no job).
One redis-server serves every round. The report is printed as markdown and written to
bench/results/rq-stop.md.

    .venv/bin/python bench/rq_stop.py [--rounds 20] [--hang-after 10] [--only rq]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness import EXAMPLE, REPO, RESULTS, BenchError
from harness.commands import SETTINGS, environment, venv_script
from harness.processes import kill_tree, start, tail, terminate
from harness.redis import redis_server, redis_version
from harness.tables import markdown_table, publish, report_head

START_TIMEOUT = 60.0
LISTENING = "Listening on"


@dataclass
class Variant:
    name: str
    argv: list[str]
    stops: list[float] = field(default_factory=list)  # seconds, of the rounds that stopped
    hangs: int = 0
    failures: list[str] = field(default_factory=list)  # rounds that exited non-zero


def variants(url: str) -> list[Variant]:
    manage = [sys.executable, "manage.py"]
    return [
        Variant("rq worker", [venv_script("rq"), "worker", "--url", url, "default"]),
        Variant("manage.py rqworker", [*manage, "rqworker", "default"]),
        Variant("manage.py prodserver rqworker", [*manage, "prodserver", "rqworker"]),
    ]


def wait_for(text: str, log: Path, what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while text not in (log.read_text(errors="replace") if log.exists() else ""):
        if process.poll() is not None or time.monotonic() > deadline:
            raise BenchError(f"{what}: {text!r} not seen\n{tail(log)}")
        time.sleep(0.01)


def wait_for_file(path: Path, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not path.exists():
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: the job left no line in {path}\n{tail(log)}")
        time.sleep(0.005)


def one_round(variant: Variant, env: dict[str, str], url: str, args: argparse.Namespace) -> None:
    from redis import Redis
    from rq import Queue

    with tempfile.TemporaryDirectory(prefix="rq-stop-") as folder:
        log = Path(folder) / "worker.log"
        effect = Path(folder) / "effect.txt"
        process = start(variant.argv, env, log)
        try:
            if args.idle:
                wait_for(LISTENING, log, variant.name, process)
                time.sleep(args.idle)
            else:
                with Redis.from_url(url) as connection:
                    job = "jobs.rq_tasks.record_line"
                    Queue("default", connection=connection).enqueue(job, str(effect), "done")
                wait_for_file(effect, variant.name, log)
            stopped = terminate(process, [], timeout=args.hang_after, grace=2.0)
        finally:
            kill_tree(process, [])
        if stopped.seconds is None:
            variant.hangs += 1
        else:
            variant.stops.append(stopped.seconds)
            if stopped.status != 0:
                variant.failures.append(f"status {stopped.status}: {tail(log, 600)}")


def report(chosen: Sequence[Variant], args: argparse.Namespace) -> str:
    when = f"{args.idle} s after the start, no job" if args.idle else "right after a job"
    head = report_head(
        "RQ: SIGTERM " + when,
        f"`bench/rq_stop.py --rounds {args.rounds} --hang-after {args.hang_after}"
        f"{f' --idle {args.idle}' if args.idle else ''}`: a hang is a worker still running "
        f"{args.hang_after} s after SIGTERM.",
        ["rq", "redis", "django-rq", "Django"],
        f"- {redis_version()}",
    )
    rows = []
    for variant in chosen:
        stops = sorted(variant.stops)
        median = f"{statistics.median(stops):.2f}" if stops else "-"
        slowest = f"{stops[-1]:.2f}" if stops else "-"
        rows.append(
            f"`{variant.name}` | {variant.hangs} / {args.rounds} | {median} | {slowest} "
            f"| {len(variant.failures)}"
        )
    table = markdown_table(
        "command | hangs | median stop s | slowest stop s | non-zero exits",
        "lrrrr",
        rows,
    )
    failures = [f"- {v.name}: {failure}" for v in chosen for failure in v.failures]
    return "\n".join([*head, "", *table, "", *failures]).rstrip() + "\n"


def run_rounds(args: argparse.Namespace, folder: Path) -> list[Variant]:
    """The rounds of each chosen variant, alternately, on one redis-server."""
    with redis_server(folder) as url:
        paths = [str(EXAMPLE), str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = environment(
            {
                "DJANGO_SETTINGS_MODULE": SETTINGS,
                "EXAMPLE_REDIS_URL": url,
                "EXAMPLE_DATABASE": str(folder / "db.sqlite3"),
                "PYTHONPATH": os.pathsep.join(paths),
                "PYTHONUNBUFFERED": "1",
            }
        )
        chosen = variants(url)
        if args.only:
            chosen = [chosen[["rq", "rqworker", "prodserver"].index(args.only)]]
        for number in range(args.rounds):
            for variant in chosen:  # alternately, so that load affects each alike
                one_round(variant, env, url, args)
            print(f"round {number + 1}: " + ", ".join(f"{v.name} {v.hangs}" for v in chosen))
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--hang-after", type=float, default=10.0)
    parser.add_argument("--idle", type=float, default=0.0, help="SIGTERM when idle, after N s")
    parser.add_argument("--only", choices=["rq", "rqworker", "prodserver"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rq-stop-redis-") as folder:
        chosen = run_rounds(args, Path(folder))
    suffix = "-idle" if args.idle else ""
    publish(report(chosen, args), RESULTS / f"rq-stop{suffix}.md")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
