"""`backends.workers.django_tasks`: django-prodserver 3.0's path of the database task worker."""

from django_prodserver.backends.database_tasks import DatabaseTasksWorker as DjangoTasksWorker

__all__ = ["DjangoTasksWorker"]
