"""Which application a server serves: WSGI_APPLICATION, or the project's ASGI application.

The module a setting names is found before anything starts, without importing it or
the packages it is in (`find_module` reads where each would be imported from), so that
`manage.py check` reports a module that does not exist instead of the server failing as
it starts. The attribute is looked up where the start imports the module anyway: in the
servers that serve inside this process (`check_attribute`).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import sys
from collections.abc import Sequence

from django.conf import settings

from django_prodserver.bounds import shown
from django_prodserver.errors import ApplicationError
from django_prodserver.suggestions import closest


def wsgi_application(process: str) -> str:
    """`WSGI_APPLICATION` in the servers' `module:attribute` form, its module found."""
    path = getattr(settings, "WSGI_APPLICATION", None)
    if not path:
        raise ApplicationError(
            f"Process '{process}': there is no WSGI application to serve. Set "
            f"WSGI_APPLICATION in settings (startproject writes 'myproject.wsgi.application')."
        )
    return found_application("WSGI_APPLICATION", path, process)


def asgi_application(process: str) -> str:
    """`ASGI_APPLICATION`, else the `asgi.py` that startproject writes beside `wsgi.py`."""
    path = getattr(settings, "ASGI_APPLICATION", None)
    if path:
        return found_application("ASGI_APPLICATION", path, process)
    wsgi_path = getattr(settings, "WSGI_APPLICATION", None)
    package = wsgi_path.rpartition(".")[0].rpartition(".")[0] if isinstance(wsgi_path, str) else ""
    candidate = f"{package}.asgi"
    if package and find_module(candidate) is None:  # found
        return f"{candidate}:application"
    if not package:
        raise ApplicationError(
            f"Process '{process}': there is no ASGI application to serve: ASGI_APPLICATION is "
            f"not set (nor WSGI_APPLICATION, beside whose module startproject writes asgi.py). "
            f"Set it to the application of the project's asgi.py, such as ASGI_APPLICATION = "
            f"'myproject.asgi.application'."
        )
    where = candidate.replace(".", "/") + ".py"
    raise ApplicationError(
        f"Process '{process}': there is no ASGI application to serve: ASGI_APPLICATION is "
        f"not set, and there is no {where} beside WSGI_APPLICATION's module. Create "
        f"{where}, as startproject writes it (it is then found, or set ASGI_APPLICATION = "
        f"'{candidate}.application'):\n{_asgi_py(package)}"
    )


def found_application(setting: str, dotted: object, process: str) -> str:
    """`dotted` (the value of `setting`) as `module:attribute`, once its module is found."""
    parts = dotted.split(".") if isinstance(dotted, str) else []
    if len(parts) < 2 or not all(part.isidentifier() for part in parts):
        raise ApplicationError(
            f"Process '{process}': {setting} is {shown(dotted)}, which is not the dotted path "
            f"of an application, such as 'myproject.{setting[:4].lower()}.application'."
        )
    assert isinstance(dotted, str)
    module, _, attribute = dotted.rpartition(".")
    missing = find_module(module)
    if missing is not None:
        name, siblings = missing
        parent, _, last = name.rpartition(".")
        nearest = closest(last, siblings, limit=1)
        hint = f" (did you mean '{parent}.{nearest[0]}'?)" if nearest else ""
        raise ApplicationError(
            f"Process '{process}': {setting} '{dotted}' cannot be served: there is no module "
            f"'{name}'{hint}."
        )
    return f"{module}:{attribute}"


def find_module(dotted: str) -> tuple[str, list[str]] | None:
    """None when module `dotted` can be imported; else the first part of it that cannot be,
    with the names of the modules beside that part (for a suggestion).

    Nothing is imported: each package is looked up in its parent's folders, as the import
    system would (`importlib.util.find_spec` imports the parents of the name it is given).
    """
    parts = dotted.split(".")
    parent_locations: Sequence[str] | None = None
    for depth in range(1, len(parts) + 1):
        name, parent = ".".join(parts[:depth]), ".".join(parts[: depth - 1])
        if parent and parent_locations is None:
            return name, []  # its parent is a module, which holds no modules
        found, locations = _locate(name, parent_locations)
        if not found:
            return name, _siblings(parent, parent_locations)
        parent_locations = locations
    return None


def _locate(name: str, parent_locations: Sequence[str] | None) -> tuple[bool, Sequence[str] | None]:
    """Whether module `name` is found, and where its own modules are (None: not a package)."""
    if name in sys.modules:
        # None there is a module that cannot be imported, as the import system reads it.
        module = sys.modules[name]
        return module is not None, getattr(module, "__path__", None)
    try:
        if parent_locations is None:
            spec = importlib.util.find_spec(name)  # a top-level name: nothing is imported
        else:
            spec = next(
                (
                    found
                    for finder in sys.meta_path
                    if hasattr(finder, "find_spec")
                    and (found := finder.find_spec(name, list(parent_locations))) is not None
                ),
                None,
            )
    except (ImportError, ValueError):
        return False, None
    if spec is None:
        return False, None
    return True, spec.submodule_search_locations


def _siblings(parent: str, locations: Sequence[str] | None) -> list[str]:
    """The modules of package `parent` (none listed at the top level: too many to suggest)."""
    if not parent or not locations:
        return []
    return [info.name for info in pkgutil.iter_modules(list(locations))]


def check_attribute(application: str, process: str) -> None:
    """Where a start imports the application's module anyway: its attribute must be there.

    `application` is `module:attribute`; another form (a factory call) is the server's to read.
    """
    module_name, _, attribute = application.partition(":")
    if not attribute.isidentifier():
        return
    module = importlib.import_module(module_name)
    if hasattr(module, attribute):
        return
    # What serves requests there: an application object (WSGIHandler, ASGIHandler, ...),
    # not the classes and functions the module imports to make it.
    served = [
        name
        for name, value in vars(module).items()
        if callable(value) and not inspect.isclass(value) and not inspect.isroutine(value)
    ]
    hint = f"; it has {', '.join(repr(name) for name in served)}" if served else ""
    raise ApplicationError(
        f"Process '{process}': the application '{application}' cannot be served: the module "
        f"'{module_name}' has no attribute '{attribute}'{hint}."
    )


def colon_form(dotted: str) -> str:
    """`myproject.wsgi.application` as servers write it: `myproject.wsgi:application`."""
    module, _, attribute = dotted.rpartition(".")
    return f"{module}:{attribute}"


def _asgi_py(package: str) -> str:
    settings_module = f"{package}.settings"
    return (
        "    import os\n"
        "    from django.core.asgi import get_asgi_application\n"
        f"    os.environ.setdefault('DJANGO_SETTINGS_MODULE', '{settings_module}')\n"
        "    application = get_asgi_application()"
    )
