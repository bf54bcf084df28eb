"""`backends.servers.hypercorn`: django-prodserver 3.0's path of `backends.hypercorn`."""

from django_prodserver.backends.hypercorn import HypercornServer

__all__ = ["HypercornServer"]
