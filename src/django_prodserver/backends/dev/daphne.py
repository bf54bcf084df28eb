"""3.0's path of DaphneRunserver (daphne): code written for it runs unchanged."""

from django_prodserver.backends.daphne import DaphneRunserver

__all__ = ["DaphneRunserver"]
