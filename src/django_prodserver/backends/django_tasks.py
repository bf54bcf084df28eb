"""`backends.django_tasks.DjangoTasksWorker`: the old name of the database task worker.

`django_prodserver.backends.database_tasks.DatabaseTasksWorker` is its name now; this path
keeps working.
"""

from django_prodserver.backends.database_tasks import DatabaseTasksWorker as DjangoTasksWorker
from django_prodserver.backends.database_tasks import builtin_tasks

__all__ = ["DjangoTasksWorker", "builtin_tasks"]
