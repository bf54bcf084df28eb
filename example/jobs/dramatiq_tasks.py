"""The example's Dramatiq actors: `record_line.send(path, "text")` puts a message on Redis.

rundramatiq imports this module because settings list it in DRAMATIQ_AUTODISCOVER_MODULES.
"""

from __future__ import annotations

import time

import dramatiq

from jobs.effects import record


@dramatiq.actor
def record_line(path: str, text: str) -> None:
    record(path, text)


@dramatiq.actor
def record_line_slowly(path: str, text: str, seconds: float) -> None:
    """Record that it started, sleep, then record: a message still running when asked to stop."""
    record(path, f"{text} started")
    time.sleep(seconds)
    record(path, text)
