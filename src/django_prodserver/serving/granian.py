"""granian's own command, with two changes: a booting worker never loses a stop signal, and
a stopping worker drains first (serving.granian_drain).

Run as `python -m django_prodserver.serving.granian ARGS`, the equivalent of
`granian ARGS`. granian forks its workers from a process whose Python SIGTERM handler
they inherit; a SIGTERM that reaches a worker while it loads Django runs that handler,
which does nothing in a worker, and granian then waits for the worker forever. Here
each forked worker starts with the default action for SIGTERM and SIGINT, so such a
signal ends it, until granian installs its own handling.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

from django_prodserver.serving import granian_drain

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def default_stop_signals() -> None:
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)


def main() -> None:
    os.register_at_fork(after_in_child=default_stop_signals)
    granian_drain.use_in_workers()
    granian_cli = importlib.import_module("granian.cli")
    sys.argv[0] = "granian"
    granian_cli.entrypoint()


if __name__ == "__main__":
    main()
