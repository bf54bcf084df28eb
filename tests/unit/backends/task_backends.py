"""Task backends of a project's own, for TasksWorker's tests."""

from __future__ import annotations

from typing import Any

from django.tasks.backends.base import BaseTaskBackend
from django_tasks_db import DatabaseBackend


class OwnDatabaseBackend(DatabaseBackend):
    """A project's subclass of django-tasks-db's backend: db_worker runs its tasks."""


class UnknownBackend(BaseTaskBackend):
    """A task backend no worker is registered for."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        raise NotImplementedError
