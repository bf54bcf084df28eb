"""3.0's path of DramatiqWorker (dramatiq): code written for it runs unchanged."""

from django_prodserver.backends.dramatiq import DramatiqWorker

__all__ = ["DramatiqWorker"]
