"""3.0's path of HueyConsumer (huey): code written for it runs unchanged."""

from django_prodserver.backends.huey import HueyConsumer

__all__ = ["HueyConsumer"]
