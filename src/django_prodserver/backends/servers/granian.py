"""3.0's path of the granian backends (granian): code written for it runs unchanged."""

from django_prodserver.backends.granian import GranianASGIServer, GranianWSGIServer

__all__ = ["GranianASGIServer", "GranianWSGIServer"]
