"""3.0's path of WaitressServer (waitress): code written for it runs unchanged."""

from django_prodserver.backends.waitress import WaitressServer

__all__ = ["WaitressServer"]
