"""What django-prodserver's system checks cost everyday management commands.

Django runs the system checks before most commands. The same project, with the README's
three processes (gunicorn, a Celery worker and beat), runs each command:

- A: with `django_prodserver` in INSTALLED_APPS;
- B: without it (the same settings, the app removed).

Commands: `migrate` with nothing to apply, `check`, and `check --tag models` (Django's own
checks only: what A's checks add to `check` is the difference). A and B alternate over
`--rounds`; each run is a fresh interpreter, timed from start to exit, with its peak RSS.
The report gives the medians and the median of the ratios A/B, round by round, and is
written to bench/results/checks-cost.md.

Run from the repository root, with the venv that has the servers' packages:

    .venvs/newest/bin/python bench/checks_cost.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import EXAMPLE, RESULTS
from harness.commands import environment
from harness.rounds import summarize_pairs
from harness.tables import markdown_table, package_versions, publish, ratio

COMMANDS = {
    "migrate (nothing to apply)": ["migrate", "--verbosity=0"],
    "check": ["check"],
    "check --tag models": ["check", "--tag", "models"],
}
SETTINGS = """\
from exampleproject.settings import *  # noqa

PRODUCTION_PROCESSES = {{
    "web": {{
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {{"bind": "0.0.0.0:8000", "workers": 4, "keepalive": 5}},
    }},
    "worker": {{
        "BACKEND": "django_prodserver.backends.celery.CeleryWorker",
        "APP": "exampleproject.celery.app",
        "ARGS": {{"concurrency": 4}},
    }},
    "beat": {{
        "BACKEND": "django_prodserver.backends.celery.CeleryBeat",
        "APP": "exampleproject.celery.app",
    }},
}}
{remove_the_app}
"""


def write_settings(directory: Path) -> None:
    (directory / "with_app.py").write_text(SETTINGS.format(remove_the_app=""))
    remove = 'INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "django_prodserver"]'
    (directory / "without_app.py").write_text(SETTINGS.format(remove_the_app=remove))


def timed_run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from start to exit, and peak RSS in MiB, of one run."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=EXAMPLE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{process.stderr.read().decode()}")
    process.stderr.close()
    return seconds, usage.ru_maxrss / 1024


def measure(rounds: int) -> dict[str, dict[str, list[tuple[float, float]]]]:
    results: dict[str, dict[str, list[tuple[float, float]]]] = {
        name: {"A": [], "B": []} for name in COMMANDS
    }
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        write_settings(directory)
        base = {
            "PYTHONPATH": os.pathsep.join([str(directory), str(EXAMPLE)]),
            "EXAMPLE_DATABASE": str(directory / "db.sqlite3"),
        }
        envs = {
            "A": environment({**base, "DJANGO_SETTINGS_MODULE": "with_app"}),
            "B": environment({**base, "DJANGO_SETTINGS_MODULE": "without_app"}),
        }
        manage = [sys.executable, str(EXAMPLE / "manage.py")]
        timed_run([*manage, "migrate", "--verbosity=0"], envs["A"])
        for round_number in range(rounds):
            for name, command in COMMANDS.items():
                for variant in ("A", "B"):
                    results[name][variant].append(timed_run([*manage, *command], envs[variant]))
            print(f"round {round_number + 1}/{rounds} done", file=sys.stderr)
    return results


def cells(pairs: list[tuple[float, float]], digits: int) -> list[str]:
    """The medians of A and B, and the median of A/B."""
    summary = summarize_pairs(pairs)
    if summary is None:  # only if every B took 0 s or 0 MiB
        return ["n/a", "n/a", ""]
    return [
        f"{summary.median_a:.{digits}f}",
        f"{summary.median_b:.{digits}f}",
        ratio(summary.ratio_median),
    ]


def report(results: dict[str, dict[str, list[tuple[float, float]]]], rounds: int) -> str:
    lines = [
        "# System checks: cost on everyday commands",
        "",
        f"`bench/checks_cost.py --rounds {rounds}`; A: the project with `django_prodserver`, "
        "B: without it. Medians; A/B is the median of the ratios round by round.",
        "",
        f"Python {platform.python_version()}, "
        f"{package_versions(['Django', 'gunicorn', 'celery'])}, {os.cpu_count()} CPUs.",
        "",
    ]
    rows = []
    for name, runs in results.items():
        pairs = list(zip(runs["A"], runs["B"], strict=True))
        seconds = cells([(a[0], b[0]) for a, b in pairs], 3)
        memory = cells([(a[1], b[1]) for a, b in pairs], 1)
        rows.append(" | ".join([name, *seconds, *memory]))
    header = "command | A s | B s | A/B time | A MiB | B MiB | A/B memory"
    lines += markdown_table(header, "lllllll", rows)
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    publish(report(measure(rounds), rounds), RESULTS / "checks-cost.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
