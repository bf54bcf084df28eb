"""The example's Celery tasks: each leaves a line in a file, so a run can be seen."""

from __future__ import annotations

import time

from exampleproject.celery import app

from jobs.effects import record


@app.task
def record_line(path: str, text: str) -> str:
    return record(path, text)


@app.task
def record_line_slowly(path: str, text: str, seconds: float) -> str:
    """A task that takes a while: it records when it starts and when it is done."""
    record(path, f"{text}: started")
    time.sleep(seconds)
    return record(path, f"{text}: done")
