"""What the benchmarks in bench/ share: starting and watching processes, wrk, A/B rounds,
the markdown report, a Redis of their own.

The scripts run as `python bench/NAME.py`, which puts bench/ first on sys.path: they import
this package as `harness`.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLE = REPO / "example"
RESULTS = REPO / "bench" / "results"
HOST = "127.0.0.1"


class BenchError(RuntimeError):
    """A run that could not be measured; the message says why."""
