"""3.0's path of RQWorker (rq): code written for it runs unchanged."""

from django_prodserver.backends.rq import RQWorker

__all__ = ["RQWorker"]
