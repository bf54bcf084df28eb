"""`backends.workers.celery`: django-prodserver 3.0's path of `backends.celery`."""

from django_prodserver.backends.celery import CeleryBeat, CeleryFlower, CeleryWorker

__all__ = ["CeleryBeat", "CeleryFlower", "CeleryWorker"]
