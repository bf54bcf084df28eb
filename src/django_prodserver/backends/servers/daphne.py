"""3.0's path of DaphneServer (daphne): code written for it runs unchanged."""

from django_prodserver.backends.daphne import DaphneServer

__all__ = ["DaphneServer"]
