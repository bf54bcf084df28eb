"""hypercorn's own command, with two changes: a SIGTERM while it starts leaves no worker,
and its workers' stop lingers for kept-alive connections (serving.hypercorn_linger).

Run as `python -m django_prodserver.serving.hypercorn ARGS`, the equivalent of
`hypercorn ARGS`. hypercorn installs its SIGTERM handler only once it has started its
worker processes; a SIGTERM before that ends the main process and leaves the workers
running, orphaned. Here such an early SIGTERM first stops the workers started so far,
then ends the main process by the signal, as it would have ended.

A SIGTERM that lands while hypercorn starts a worker waits until the start has finished:
in the middle of it the worker process already runs, but multiprocessing does not list it
among this process's children yet, so it would be missed and run on alone.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from django_prodserver.serving import hypercorn_linger

WORKER_STOP_WAIT = 5.0


class EarlyStop:
    """The SIGTERM handler in force until hypercorn installs its own."""

    def __init__(self) -> None:
        self.starting_workers = False
        self.deferred_signal: int | None = None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.starting_workers:
            self.deferred_signal = signum
            return
        stop_workers_then_die(signum)

    def around_worker_starts(self, populate: Callable[..., None]) -> Callable[..., None]:
        def populate_then_honour_a_deferred_stop(*args: Any, **kwargs: Any) -> None:
            self.starting_workers = True
            try:
                populate(*args, **kwargs)
            finally:
                self.starting_workers = False
                if self.deferred_signal is not None:
                    stop_workers_then_die(self.deferred_signal)

        return populate_then_honour_a_deferred_stop


def stop_workers_then_die(signum: int) -> None:
    workers = multiprocessing.active_children()
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(WORKER_STOP_WAIT)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def main() -> None:
    early_stop = EarlyStop()
    signal.signal(signal.SIGTERM, early_stop.handle)
    import hypercorn.run
    from hypercorn.__main__ import main as hypercorn_main

    # Once hypercorn's own handler is in force (it restarts a worker that died the same
    # way), a deferred signal cannot arise: only early_stop.handle defers.
    hypercorn.run._populate = early_stop.around_worker_starts(hypercorn.run._populate)
    hypercorn_linger.use_in_workers()
    sys.argv[0] = "hypercorn"
    sys.exit(hypercorn_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
