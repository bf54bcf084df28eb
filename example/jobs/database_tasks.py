"""The example's django-tasks tasks, stored in the database and run by `prodserver tasks`.

Django 6 has `django.tasks`; before 6, the django-tasks backport provides the same API.
"""

from __future__ import annotations

import time

from jobs.effects import record

try:
    from django.tasks import task
except ImportError:
    from django_tasks import task


@task()
def record_line(path: str, text: str) -> str:
    return record(path, text)


@task()
def record_line_slowly(path: str, text: str, seconds: float) -> str:
    """Record the start, sleep, then record `text`: a task still running when the worker stops."""
    record(path, f"{text} started")
    time.sleep(seconds)
    return record(path, text)
