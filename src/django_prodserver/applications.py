"""Which application a server serves: WSGI_APPLICATION, or the project's ASGI application."""

from __future__ import annotations

import importlib.util

from django.conf import settings

from django_prodserver.errors import ApplicationError


def wsgi_application(process: str) -> str:
    """`WSGI_APPLICATION` in the servers' `module:attribute` form."""
    path = getattr(settings, "WSGI_APPLICATION", None)
    if not path:
        raise ApplicationError(
            f"Process '{process}': there is no WSGI application to serve. Set "
            f"WSGI_APPLICATION in settings (startproject writes 'myproject.wsgi.application')."
        )
    return _colon_form(path)


def asgi_application(process: str) -> str:
    """`ASGI_APPLICATION`, else the `asgi.py` that startproject writes beside `wsgi.py`."""
    path = getattr(settings, "ASGI_APPLICATION", None)
    if path:
        return _colon_form(path)
    wsgi_path = getattr(settings, "WSGI_APPLICATION", None) or ""
    package = wsgi_path.rpartition(".")[0].rpartition(".")[0]
    candidate = f"{package}.asgi" if package else ""
    if candidate and _module_exists(candidate):
        return f"{candidate}:application"
    where = _file_of(candidate) if candidate else "myproject/asgi.py"
    raise ApplicationError(
        f"Process '{process}': there is no ASGI application to serve: ASGI_APPLICATION is "
        f"not set, and there is no {where} beside WSGI_APPLICATION's module. Create "
        f"{where}, as startproject writes it (it is then found, or set ASGI_APPLICATION = "
        f"'{candidate or 'myproject.asgi'}.application'):\n{_asgi_py(package or 'myproject')}"
    )


def _file_of(module: str) -> str:
    return module.replace(".", "/") + ".py"


def _asgi_py(package: str) -> str:
    settings_module = f"{package}.settings"
    return (
        "    import os\n"
        "    from django.core.asgi import get_asgi_application\n"
        f"    os.environ.setdefault('DJANGO_SETTINGS_MODULE', '{settings_module}')\n"
        "    application = get_asgi_application()"
    )


def _colon_form(dotted: str) -> str:
    module, _, attribute = dotted.rpartition(".")
    return f"{module}:{attribute}"


def _module_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
