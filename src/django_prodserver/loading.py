"""From a BACKEND dotted path to a backend object, with errors that say what to fix."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from django_prodserver import backends as backends_package
from django_prodserver.backend_code import call_backend, exception_text
from django_prodserver.backend_names import is_registered_name, registered_path
from django_prodserver.backends.base import Backend
from django_prodserver.backends.management_command import ManagementCommandBackend
from django_prodserver.backends.web_server import ServerBackend
from django_prodserver.bounds import shown
from django_prodserver.compat.api import BaseProcessBackend, BaseServerBackend, BaseWorkerBackend
from django_prodserver.errors import BackendImportError, ProdserverError
from django_prodserver.processes import ProcessSpec
from django_prodserver.suggestions import did_you_mean

PACKAGE = backends_package.__name__
# Modules of the backends package that hold base classes, not backends a BACKEND names.
BASE_MODULES = frozenset({"base", "web_server", "management_command", "task_framework"})
# The classes backends derive from: a BACKEND that names one of them names no server.
_BASE_CLASSES = (
    Backend,
    ServerBackend,
    ManagementCommandBackend,
    BaseProcessBackend,
    BaseServerBackend,
    BaseWorkerBackend,
)


def load_backend(spec: ProcessSpec) -> Backend:
    """The backend object of `spec`; whatever its module or constructor raises, a check error."""
    backend_class = import_backend_class(spec.name, spec.backend)
    origin = None
    if is_registered_name(spec.backend):
        origin = registered_path(spec.name, spec.backend)[1]
    if issubclass(backend_class, BaseProcessBackend):
        from django_prodserver.compat.wrapper import legacy_backend

        return legacy_backend(spec, backend_class)
    if not issubclass(backend_class, Backend):
        from django_prodserver.duck_typed import duck_typed_backend

        return duck_typed_backend(spec, backend_class)
    backend = call_backend(spec, "be constructed", lambda: backend_class(spec).resolved())
    if origin is not None:
        backend.origin = origin + (f"; {backend.origin}" if backend.origin else "")
    return backend


def import_backend_class(process: str, path: str) -> type:
    if is_registered_name(path):
        path = registered_path(process, path)[0]
    module_path, _, class_name = path.rpartition(".")
    if not module_path or not all(part.isidentifier() for part in path.split(".")):
        raise BackendImportError(
            f"Process '{process}': BACKEND {path!r} is not a dotted path to a class, "
            f"such as 'django_prodserver.backends.gunicorn.GunicornServer'."
        )
    try:
        module = importlib.import_module(module_path)
    except ModuleNotFoundError as error:
        if error.name is None or not module_path.startswith(error.name):
            raise _import_failed(process, path, error) from None
        hint = did_you_mean(module_path, _our_backend_modules(), quote="'")
        raise BackendImportError(
            f"Process '{process}': BACKEND '{path}' cannot be imported: "
            f"there is no module '{error.name}'{hint}."
        ) from error
    except ProdserverError:
        raise
    except Exception as error:  # a syntax error, or whatever the module raises as it runs
        raise _import_failed(process, path, error) from None
    backend_class = getattr(module, class_name, _MISSING)
    if backend_class is _MISSING:
        classes = [name for name, value in vars(module).items() if inspect.isclass(value)]
        hint = did_you_mean(class_name, classes, quote="'")
        raise BackendImportError(
            f"Process '{process}': BACKEND '{path}': module '{module_path}' has no backend "
            f"class '{class_name}'{hint}."
        )
    if not inspect.isclass(backend_class):
        raise BackendImportError(
            f"Process '{process}': BACKEND '{path}' is {_described(backend_class)}, not a "
            f"class: a BACKEND names a backend class, such as "
            f"'django_prodserver.backends.gunicorn.GunicornServer'."
        )
    if backend_class in _BASE_CLASSES or (
        issubclass(backend_class, Backend) and backend_class.plan is Backend.plan
    ):
        raise BackendImportError(
            f"Process '{process}': BACKEND '{path}' is a base class that plans no process; "
            f"name a backend that subclasses it (and implements "
            f"{'start_server()' if issubclass(backend_class, BaseProcessBackend) else 'plan()'}),"
            f" such as 'django_prodserver.backends.gunicorn.GunicornServer'."
        )
    if not issubclass(backend_class, (Backend, BaseProcessBackend)):
        from django_prodserver.duck_typed import what_it_lacks

        lacking = what_it_lacks(backend_class)
        if lacking is not None:
            raise BackendImportError(
                f"Process '{process}': BACKEND '{path}' is not a backend: it lacks {lacking}. "
                f"A backend subclasses django_prodserver.backends.base.Backend, or provides "
                f"its API (see 'Writing a backend' in the docs)."
            )
    return backend_class


# What getattr() returns for a name a module does not have.
_MISSING = object()


def _described(value: object) -> str:
    """`a function`, `the module 'x'`, `an int (3)`: what a BACKEND names instead of a class."""
    if inspect.ismodule(value):
        return f"the module '{value.__name__}'"
    if inspect.isroutine(value):
        return "a function"
    return f"a {type(value).__name__} ({shown(value, 40)})"


def _import_failed(process: str, path: str, error: BaseException) -> BackendImportError:
    module_path = path.rpartition(".")[0]
    return BackendImportError(
        f"Process '{process}': BACKEND '{path}' cannot be imported: importing module "
        f"'{module_path}' raised {exception_text(error)}"
    )


def _our_backend_modules() -> list[str]:
    return [
        f"{PACKAGE}.{info.name}"
        for info in pkgutil.iter_modules(backends_package.__path__)
        if info.name not in BASE_MODULES and not info.name.startswith("_") and not info.ispkg
    ]
