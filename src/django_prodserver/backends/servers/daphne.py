"""`backends.servers.daphne`: django-prodserver 3.0's path of `backends.daphne`."""

from django_prodserver.backends.daphne import DaphneServer

__all__ = ["DaphneServer"]
