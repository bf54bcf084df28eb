"""`backends.servers.granian`: django-prodserver 3.0's path of `backends.granian`."""

from django_prodserver.backends.granian import GranianASGIServer, GranianWSGIServer

__all__ = ["GranianASGIServer", "GranianWSGIServer"]
