"""Werkzeug's development server, serving the project's WSGI application in this process."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

from django.core.servers.basehttp import get_internal_wsgi_application
from werkzeug.serving import run_simple


def serve(
    host: str,
    port: int,
    *,
    threaded: bool,
    use_reloader: bool,
    use_debugger: bool,
    static: bool,
    ssl_context: tuple[str, str] | None,
    env: Mapping[str, str],
) -> None:
    os.environ.update(env)
    application: Any = get_internal_wsgi_application()
    if static:
        from django.contrib.staticfiles.handlers import StaticFilesHandler

        application = StaticFilesHandler(application)
    # SIGTERM ends the server as Ctrl-C does (its socket closed, exit status 0); the
    # reloader's parent does the same and then kills the serving child.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    run_simple(
        host,
        port,
        application,
        use_reloader=use_reloader,
        use_debugger=use_debugger,
        threaded=threaded,
        ssl_context=ssl_context,
    )
