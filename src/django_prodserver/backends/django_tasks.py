"""The old path of DjangoTasksWorker (now database_tasks.DatabaseTasksWorker), kept working."""

from django_prodserver.backends.database_tasks import DatabaseTasksWorker as DjangoTasksWorker
from django_prodserver.backends.database_tasks import builtin_tasks

__all__ = ["DjangoTasksWorker", "builtin_tasks"]
