"""`backends.servers.uvicorn`: django-prodserver 3.0's path of `backends.uvicorn`."""

from django_prodserver.backends.uvicorn import UvicornServer, UvicornWSGIServer

__all__ = ["UvicornServer", "UvicornWSGIServer"]
