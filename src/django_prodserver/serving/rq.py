"""RQ's worker, with a stop that does not wait on its pubsub thread.

An RQ worker listens for commands (stop a job, shut down) on a Redis channel, in a thread
that redis-py runs (`PubSubWorkerThread`, polling with RQ's `sleep_time=60`). When the worker
stops, RQ's `BaseWorker.unsubscribe()` sends UNSUBSCRIBE on that thread's connection, and only
then stops the thread. The thread often reads the reply first and loops once more while its
running flag is still set; nothing being subscribed, redis-py's `get_message` then waits up to
its 60 s for a subscription. RQ joins the thread for one second at most, which costs that
second; but since redis-py 8.2, `PubSubWorkerThread.stop()` itself waits for the thread to
end, without a bound, and the stop hangs for up to a minute: about one stop in three (RQ 2.2
to 3.0 with redis-py 8.2; see docs/backend-rq.md for the reproduction and the lines).

`unsubscribe` below does what RQ does in the order that has no race: it clears the thread's
running flag first, so the reply to UNSUBSCRIBE ends the thread's loop. It replaces RQ's
method in the worker's own process only (`prodserver`'s RQ backend installs it just before
`rqworker` runs); a project's worker class that defines its own `unsubscribe` keeps it.
"""

from __future__ import annotations

import inspect
from typing import Any

from rq.exceptions import StopRequested
from rq.worker.base import BaseWorker, WorkerStatus

# How long to wait for the pubsub thread once its loop has been told to end (RQ waits one
# second, too). The thread is a daemon: if Redis never answers, the process exits anyway.
THREAD_JOIN_SECONDS = 1.0


def unsubscribe(worker: BaseWorker) -> None:
    """Leave the worker's command channel and end its pubsub thread, without waiting on it."""
    # redis-py's PubSub and its thread are untyped.
    thread: Any = worker.pubsub_thread
    pubsub: Any = worker.pubsub
    if thread is None or pubsub is None:
        return
    worker.log.info(
        "Worker %s: unsubscribing from channel %s", worker.name, worker.pubsub_channel_name
    )
    end_loop(thread)
    pubsub.unsubscribe()
    thread.join(timeout=THREAD_JOIN_SECONDS)
    pubsub.close()


def end_loop(thread: Any) -> None:
    """Clear the thread's running flag, without waiting for the thread to end.

    redis-py 8.2's `stop()` joins the thread unless given a timeout; older ones take none.
    """
    if "timeout" in inspect.signature(thread.stop).parameters:
        thread.stop(timeout=0)
    else:
        thread.stop()


RQ_DEQUEUE = BaseWorker.dequeue_job_and_maintain_ttl


def dequeue_unless_stopping(worker: BaseWorker, *args: Any, **kwargs: Any) -> Any:
    """RQ's wait for the next job, which a stop asked for just before it ends at once.

    RQ's SIGTERM handler stops the worker at once when it is idle, and after its job when
    it is busy. A SIGTERM between a job's end and the wait for the next one (the worker is
    still marked busy) only asks for a stop after the job, and RQ then waits for a job, up
    to its dequeue timeout (minutes). Marked idle first, a stop from then on ends the wait;
    one asked before is seen here.
    """
    worker.set_state(WorkerStatus.IDLE)
    if worker._stop_requested:
        raise StopRequested()
    return RQ_DEQUEUE(worker, *args, **kwargs)


def install() -> None:
    """Make RQ's workers use `unsubscribe` and `dequeue_unless_stopping` above (idempotent)."""
    setattr(BaseWorker, "unsubscribe", unsubscribe)  # noqa: B010 (mypy: a method is read-only)
    setattr(BaseWorker, "dequeue_job_and_maintain_ttl", dequeue_unless_stopping)  # noqa: B010
