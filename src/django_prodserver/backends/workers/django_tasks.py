"""3.0's path of DjangoTasksWorker (database_tasks): code written for it runs unchanged."""

from django_prodserver.backends.database_tasks import DatabaseTasksWorker as DjangoTasksWorker

__all__ = ["DjangoTasksWorker"]
