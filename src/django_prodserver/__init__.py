"""django-prodserver: start a Django project's production processes by name."""

__version__ = "0.1.0"
