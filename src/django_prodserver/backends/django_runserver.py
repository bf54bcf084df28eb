"""The older path of `dev.django_runserver.DjangoRunserver` (the other implementation's 2.x)."""

from django_prodserver.backends.dev.django_runserver import DjangoRunserver

__all__ = ["DjangoRunserver"]
