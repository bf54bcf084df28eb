"""The example's Huey tasks: calling `record_line(path, "text")` puts the task on Redis.

The consumer (`prodserver huey`) must have imported this module to run them: run_huey
imports the `tasks` module of every installed app, and jobs/tasks.py imports this one.
"""

from __future__ import annotations

import time

from huey.contrib.djhuey import task

from jobs.effects import record


@task()
def record_line(path: str, text: str) -> str:
    return record(path, text)


@task()
def record_line_slowly(path: str, text: str, seconds: float) -> str:
    """Record that it started, sleep, then record: a task still running when asked to stop."""
    record(path, f"{text} started")
    time.sleep(seconds)
    return record(path, text)
