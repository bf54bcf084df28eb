"""daphne's ASGI `runserver`, at the other implementation's `dev` path."""

from django_prodserver.backends.daphne import DaphneRunserver

__all__ = ["DaphneRunserver"]
