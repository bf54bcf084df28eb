"""django-prodserver 3.0's settings object, handed on at its path: `conf.app_settings`.

Each `PRODUCTION_*` attribute is read from the project's settings when it is asked for,
else its default. This package itself reads the setting in `processes.py` only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

PREFIX = "PRODUCTION_"
DEFAULTS: dict[str, Any] = {"PRODUCTION_PROCESSES": {}}


class AppSettings:
    """The app's settings, each read from Django's settings at the moment it is asked for."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith(PREFIX) and hasattr(settings, name):
            return getattr(settings, name)
        if name in DEFAULTS:
            default = DEFAULTS[name]
            return type(default)(default)  # a copy: a caller may change what it gets
        raise AttributeError(f"{type(self).__name__} has no setting {name!r}")


app_settings = AppSettings()
