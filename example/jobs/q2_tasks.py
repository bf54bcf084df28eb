"""The example's django-q2 tasks: plain functions, queued by their dotted path.

`async_task("jobs.q2_tasks.record_line", "/tmp/effects.txt", "hello")` queues one.
"""

from __future__ import annotations

import time

from jobs.effects import record


def record_line(path: str, text: str) -> str:
    return record(path, text)


def record_line_slowly(path: str, text: str, seconds: float) -> str:
    """Record the start, sleep, then record `text`: a task still running when the cluster stops."""
    record(path, f"{text} started")
    time.sleep(seconds)
    return record(path, text)
