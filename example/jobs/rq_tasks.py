"""The example's RQ jobs: plain functions that django-rq puts on a queue.

`django_rq.enqueue(record_line, path, "text")` from anywhere in the project; the worker
(`prodserver rqworker`) imports this module by the job's dotted name.
"""

from __future__ import annotations

import time

from jobs.effects import record


def record_line(path: str, text: str) -> str:
    return record(path, text)


def record_line_slowly(path: str, text: str, seconds: float) -> str:
    """Record that it started, sleep, then record: a job still running when asked to stop."""
    record(path, f"{text} started")
    time.sleep(seconds)
    return record(path, text)
