"""3.0's path of its helpers (compat.utils): code written for it runs unchanged."""

from django_prodserver.compat.utils import (
    WarmupFailure,
    asgi_app_name,
    wsgi_app_name,
    wsgi_healthcheck,
)

__all__ = ["WarmupFailure", "asgi_app_name", "wsgi_app_name", "wsgi_healthcheck"]
