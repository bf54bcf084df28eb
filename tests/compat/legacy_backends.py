"""Backends written as django-prodserver 3.0's README tells third parties to write them.

Copied into each test project as `legacy_backends.py`.
"""

import signal
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from django.core.wsgi import get_wsgi_application

from django_prodserver.backends.base import BaseServerBackend, BaseWorkerBackend


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        sys.stdout.write(f"served {args[0]}\n")
        sys.stdout.flush()


class WsgirefServer(BaseServerBackend):
    """Serves the project with wsgiref on `--port=N` from ARGS."""

    def prep_server_args(self):
        return ["--host=127.0.0.1", *self.args]

    def start_server(self, *args):
        options = dict(arg.removeprefix("--").split("=", 1) for arg in args)
        server = make_server(
            options["host"],
            int(options["port"]),
            get_wsgi_application(),
            handler_class=QuietHandler,
        )
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        print(f"legacy server on {options['host']}:{options['port']}", flush=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()


class TickingWorker(BaseWorkerBackend):
    """Prints a line per second until it is stopped."""

    def start_server(self, *args):
        import time

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            print(f"tick {' '.join(args)}", flush=True)
            time.sleep(1)


class BrokenOnConstruction(BaseServerBackend):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        raise RuntimeError("the license key is missing")
