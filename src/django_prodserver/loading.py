"""From a BACKEND dotted path to a backend object, with errors that say what to fix."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import cast

from django_prodserver import backends as backends_package
from django_prodserver.backends.base import Backend, BaseProcessBackend
from django_prodserver.errors import BackendImportError
from django_prodserver.processes import ProcessSpec
from django_prodserver.suggestions import did_you_mean

PACKAGE = backends_package.__name__
# Modules of the backends package that hold base classes, not backends a BACKEND names.
BASE_MODULES = frozenset({"base", "command", "management_command"})


def load_backend(spec: ProcessSpec) -> Backend:
    backend_class = import_backend_class(spec.name, spec.backend)
    if issubclass(backend_class, BaseProcessBackend):
        from django_prodserver.legacy import legacy_backend

        return legacy_backend(spec, backend_class)
    backend: Backend = backend_class(spec)
    return backend


def import_backend_class(process: str, path: str) -> type[Backend] | type[BaseProcessBackend]:
    module_path, _, class_name = path.rpartition(".")
    if not module_path:
        raise BackendImportError(
            f"Process '{process}': BACKEND '{path}' is not a dotted path to a class, "
            f"such as 'django_prodserver.backends.gunicorn.GunicornServer'."
        )
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError as error:
        if error.name is None or not module_path.startswith(error.name):
            raise
        hint = did_you_mean(module_path, _our_backend_modules(), quote="'")
        raise BackendImportError(
            f"Process '{process}': BACKEND '{path}' cannot be imported: "
            f"there is no module '{error.name}'{hint}."
        ) from error
    backend_class = getattr(module, class_name, None)
    if not inspect.isclass(backend_class) or not (
        hasattr(backend_class, "plan") or issubclass(backend_class, BaseProcessBackend)
    ):
        classes = [name for name, value in vars(module).items() if inspect.isclass(value)]
        hint = did_you_mean(class_name, classes, quote="'")
        raise BackendImportError(
            f"Process '{process}': BACKEND '{path}': module '{module_path}' has no backend "
            f"class '{class_name}'{hint}."
        )
    if issubclass(backend_class, BaseProcessBackend):
        return backend_class
    return cast("type[Backend]", backend_class)


def _our_backend_modules() -> list[str]:
    return [
        f"{PACKAGE}.{info.name}"
        for info in pkgutil.iter_modules(backends_package.__path__)
        if info.name not in BASE_MODULES and not info.name.startswith("_") and not info.ispkg
    ]
