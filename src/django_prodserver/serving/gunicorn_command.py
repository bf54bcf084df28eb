"""The `gunicorn` command, for the options that need it (`reload`, `env`), with the changes
prodserver's in-process gunicorn has as it stops.

Run as `python -m django_prodserver.serving.gunicorn_command ARGS`, the equivalent of
`gunicorn ARGS`:
- gunicorn removes only its own control socket, not the one a successor took
  (serving.gunicorn_control);
- when its sockets are inherited (`INHERITED` is set), it leaves a unix socket's file in
  place: the socket is the runner's or systemd's, and the next server serves on it.
"""

from __future__ import annotations

import os
import sys

INHERITED = "DJANGO_PRODSERVER_GUNICORN_INHERITED"


def main() -> None:
    from gunicorn.app import base
    from gunicorn.app.wsgiapp import run

    from django_prodserver.serving.gunicorn import InheritedSocketsArbiter
    from django_prodserver.serving.gunicorn_control import keep_a_successors_control_socket

    keep_a_successors_control_socket()
    if os.environ.pop(INHERITED, ""):
        base.Arbiter = InheritedSocketsArbiter  # what BaseApplication.run() starts
    sys.argv[0] = "gunicorn"
    run()


if __name__ == "__main__":
    main()
