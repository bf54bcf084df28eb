"""django-prodserver: start a Django project's production processes by name."""

__version__ = "4.0.0"
