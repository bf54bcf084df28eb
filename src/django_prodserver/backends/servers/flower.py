"""3.0's path of CeleryFlower (celery): code written for it runs unchanged."""

from django_prodserver.backends.celery import CeleryFlower

__all__ = ["CeleryFlower"]
