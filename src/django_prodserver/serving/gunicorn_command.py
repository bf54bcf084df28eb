"""The `gunicorn` command, for the options that need it (`reload`, `env`), with the changes
prodserver's in-process gunicorn has as it stops.

Run as `python -m django_prodserver.serving.gunicorn_command ARGS`, the equivalent of
`gunicorn ARGS`:
- gunicorn removes only its own control socket, not the one a successor took
  (serving.gunicorn_control);
- when its sockets are inherited (serving.gunicorn's `INHERITED` is set), it leaves a unix
  socket's file in place: the socket is the runner's or systemd's, and the next server
  serves on it.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    from gunicorn.app import base
    from gunicorn.app.wsgiapp import WSGIApplication

    from django_prodserver.serving.gunicorn import (
        COMMAND_MODULE,
        INHERITED,
        InheritedSocketsArbiter,
    )
    from django_prodserver.serving.gunicorn_control import keep_a_successors_control_socket

    keep_a_successors_control_socket()
    if os.environ.get(INHERITED):  # kept for the master a USR2 starts
        base.Arbiter = InheritedSocketsArbiter  # what BaseApplication.run() starts
    application = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn")
    # The options are read. gunicorn's arbiter takes from sys.argv the command that USR2
    # runs again: this module, by name (its file, run as a script, would find this folder's
    # gunicorn.py as `gunicorn`).
    sys.argv[:1] = ["-m", COMMAND_MODULE]
    application.run()


if __name__ == "__main__":
    main()
