"""3.0's path of UvicornServer, UvicornWSGIServer (uvicorn): code written for it runs unchanged."""

from django_prodserver.backends.uvicorn import UvicornServer, UvicornWSGIServer

__all__ = ["UvicornServer", "UvicornWSGIServer"]
