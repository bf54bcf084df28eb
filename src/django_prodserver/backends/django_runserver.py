"""2.x's path of DjangoRunserver (dev.django_runserver): code written for it runs unchanged."""

from django_prodserver.backends.dev.django_runserver import DjangoRunserver

__all__ = ["DjangoRunserver"]
