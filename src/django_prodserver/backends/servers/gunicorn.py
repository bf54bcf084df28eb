"""3.0's path of GunicornServer (gunicorn): code written for it runs unchanged."""

from django_prodserver.backends.gunicorn import GunicornServer

__all__ = ["GunicornServer"]
