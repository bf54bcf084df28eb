"""`backends.workers.huey`: django-prodserver 3.0's path of `backends.huey`."""

from django_prodserver.backends.huey import HueyConsumer

__all__ = ["HueyConsumer"]
