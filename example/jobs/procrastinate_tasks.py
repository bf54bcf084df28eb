"""The example's procrastinate tasks: jobs in PostgreSQL, run by `prodserver procrastinate`.

procrastinate's Django integration imports this module of every installed app
(PROCRASTINATE_AUTODISCOVER_MODULE_NAME in the settings).
"""

from __future__ import annotations

import time

from procrastinate.contrib.django import app

from jobs.effects import record


@app.task
def record_line(path: str, text: str) -> str:
    return record(path, text)


@app.task
def record_line_slowly(path: str, text: str, seconds: float) -> str:
    """Record the start, sleep, then record `text`: a job still running when the worker stops."""
    record(path, f"{text} started")
    time.sleep(seconds)
    return record(path, text)
