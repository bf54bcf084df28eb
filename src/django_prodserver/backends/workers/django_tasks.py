"""`backends.workers.django_tasks`: django-prodserver 3.0's path of `backends.django_tasks`."""

from django_prodserver.backends.django_tasks import DjangoTasksWorker

__all__ = ["DjangoTasksWorker"]
