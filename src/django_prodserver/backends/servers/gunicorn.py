"""`backends.servers.gunicorn`: django-prodserver 3.0's path of `backends.gunicorn`."""

from django_prodserver.backends.gunicorn import GunicornServer

__all__ = ["GunicornServer"]
