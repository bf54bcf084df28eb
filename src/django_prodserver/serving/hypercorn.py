"""hypercorn's own command, with one change: a SIGTERM while it starts leaves no worker.

Run as `python -m django_prodserver.serving.hypercorn ARGS`, the equivalent of
`hypercorn ARGS`. hypercorn installs its SIGTERM handler only once it has started its
worker processes; a SIGTERM before that ends the main process and leaves the workers
running, orphaned. Here such an early SIGTERM first stops the workers started so far,
then ends the main process by the signal, as it would have ended.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from types import FrameType

WORKER_STOP_WAIT = 5.0


def stop_workers_then_die(signum: int, frame: FrameType | None) -> None:
    workers = multiprocessing.active_children()
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(WORKER_STOP_WAIT)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def main() -> None:
    signal.signal(signal.SIGTERM, stop_workers_then_die)
    from hypercorn.__main__ import main as hypercorn_main

    sys.argv[0] = "hypercorn"
    sys.exit(hypercorn_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
