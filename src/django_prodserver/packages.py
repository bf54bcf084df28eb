"""Importing a server's package, or saying exactly how to install it."""

from __future__ import annotations

import importlib
from types import ModuleType

from django_prodserver.errors import MissingPackageError


def pip_line(extra: str) -> str:
    return f"pip install 'django-prodserver[{extra}]'"


def require(module: str, extra: str, process: str, what: str | None = None) -> ModuleType:
    """Import `module`; if it is missing, name the process and the pip line that fixes it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or module.split(".")[0] != error.name.split(".")[0]:
            raise
        raise MissingPackageError(
            f"Process '{process}' needs {what or module}, which is not installed.\n"
            f"Install it with: {pip_line(extra)}"
        ) from error
