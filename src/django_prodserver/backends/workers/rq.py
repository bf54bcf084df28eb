"""`backends.workers.rq`: django-prodserver 3.0's path of `backends.rq`."""

from django_prodserver.backends.rq import RQWorker

__all__ = ["RQWorker"]
