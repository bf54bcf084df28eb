"""`backends.workers.django_q2`: django-prodserver 3.0's path of `backends.django_q2`."""

from django_prodserver.backends.django_q2 import DjangoQ2Worker

__all__ = ["DjangoQ2Worker"]
