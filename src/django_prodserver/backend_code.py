"""Calling a backend's own code: what it raises becomes an error that names the process.

A backend may come from anywhere (a third party, the project itself); an exception from
its constructor or its methods is shown as `manage.py check` shows any error, with no
traceback and no secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django_prodserver.errors import BackendFailure, ProdserverError
from django_prodserver.masking import mask_secrets
from django_prodserver.processes import ProcessSpec

Result = TypeVar("Result")


def exception_text(error: BaseException) -> str:
    """`KeyError: 'x'`: what an exception says, on one line, secrets masked."""
    text = " ".join(str(error).split())
    return mask_secrets(f"{type(error).__name__}: {text}" if text else type(error).__name__)


def call_backend(spec: ProcessSpec, what: str, function: Callable[[], Result]) -> Result:
    """`function()`; what it raises (other than our own errors) as a BackendFailure."""
    try:
        return function()
    except ProdserverError:
        raise
    except Exception as error:
        raise BackendFailure(
            f"Process '{spec.name}': BACKEND '{spec.backend}' failed to {what}: "
            f"{exception_text(error)}"
        ) from None
