"""`backends.workers.dramatiq`: django-prodserver 3.0's path of `backends.dramatiq`."""

from django_prodserver.backends.dramatiq import DramatiqWorker

__all__ = ["DramatiqWorker"]
