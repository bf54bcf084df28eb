"""django-prodserver 3.0's helpers, handed on at its path `django_prodserver.utils`.

`wsgi_app_name()` and `asgi_app_name()` give the application settings in the
`module:attribute` form servers take; `wsgi_healthcheck()` asks a WSGI handler for one
URL and raises `WarmupFailure` unless it answers as a healthy one does.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from django_prodserver.applications import colon_form
from django_prodserver.backends.base import Address
from django_prodserver.errors import ProdserverError
from django_prodserver.liveness.http import default_host_header


class WarmupFailure(ProdserverError):
    """The warm-up request was answered with another status than the healthy one."""


def wsgi_app_name() -> str:
    """`WSGI_APPLICATION` as `module:attribute`, such as `myproject.wsgi:application`."""
    return colon_form(settings.WSGI_APPLICATION)


def asgi_app_name() -> str:
    """`ASGI_APPLICATION` as `module:attribute`, such as `myproject.asgi:application`."""
    return colon_form(settings.ASGI_APPLICATION)


def wsgi_healthcheck(app: Any, url: str, ok_status: int = 200) -> None:
    """GET `url` from `app` (Django's WSGIHandler) once; WarmupFailure unless `ok_status`.

    The request carries a Host that ALLOWED_HOSTS takes (its first concrete entry).
    """
    from django.test import RequestFactory

    host = default_host_header(Address(host="localhost"))
    response = app.get_response(RequestFactory().get(url, HTTP_HOST=host))
    if response.status_code != ok_status:
        raise WarmupFailure(f"Warm-up GET {url} answered {response.status_code}, not {ok_status}.")
