"""3.0's path of HypercornServer (hypercorn): code written for it runs unchanged."""

from django_prodserver.backends.hypercorn import HypercornServer

__all__ = ["HypercornServer"]
