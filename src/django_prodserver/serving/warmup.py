"""Warm-up (`HEALTH['WARMUP']`): one request to the health path, served inside the process
before it listens, so that the first real request does not pay for what a first request
loads (the URLconf's views, templates, a database connection, lazy imports).

The request is a WSGI call with an environ such as Django's RequestFactory builds, with the
`Host` of the health check, so ALLOWED_HOSTS lets it through.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit


def warm_up(application: Callable[..., Any], path: str, host: str, process: str) -> str:
    """Serve GET `path` once; the status line it answered (a failure is told, not raised)."""
    url = urlsplit(path)
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(url.path),
        "QUERY_STRING": url.query,
        "SERVER_NAME": host.rsplit(":", 1)[0].strip("[]")
        if "]" in host or host.count(":") == 1
        else host,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": host,
        "HTTP_USER_AGENT": "django-prodserver warm-up",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Callable[[bytes], None]:
        statuses.append(status)
        return lambda data: None

    started = time.perf_counter()
    try:
        body = application(environ, start_response)
        try:
            for _ in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
    except Exception as error:  # the application's own failure: the start goes on
        line = f"Process '{process}': warm-up GET {path} failed: {error!r}"
    else:
        milliseconds = (time.perf_counter() - started) * 1000
        answered = statuses[-1] if statuses else "no status"
        line = (
            f"Process '{process}': warm-up GET {path} answered {answered} in {milliseconds:.0f} ms"
        )
    print(line, file=sys.stderr, flush=True)
    return line
