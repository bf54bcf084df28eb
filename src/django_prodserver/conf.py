"""3.0's path of its settings object (compat.conf): code written for it runs unchanged."""

from django_prodserver.compat.conf import AppSettings, app_settings

__all__ = ["AppSettings", "app_settings"]
