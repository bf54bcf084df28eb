"""3.0's path of the Celery backends (celery): code written for it runs unchanged."""

from django_prodserver.backends.celery import CeleryBeat, CeleryFlower, CeleryWorker

__all__ = ["CeleryBeat", "CeleryFlower", "CeleryWorker"]
