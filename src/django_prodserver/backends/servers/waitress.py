"""`backends.servers.waitress`: django-prodserver 3.0's path of `backends.waitress`."""

from django_prodserver.backends.waitress import WaitressServer

__all__ = ["WaitressServer"]
