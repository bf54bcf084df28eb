"""3.0's path of DjangoQ2Worker (django_q2): code written for it runs unchanged."""

from django_prodserver.backends.django_q2 import DjangoQ2Worker

__all__ = ["DjangoQ2Worker"]
