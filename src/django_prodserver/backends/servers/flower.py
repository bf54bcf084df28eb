"""`backends.servers.flower`: django-prodserver 3.0's path of `backends.celery`."""

from django_prodserver.backends.celery import CeleryFlower

__all__ = ["CeleryFlower"]
