"""The end of an RQ worker's pubsub thread (serving/rq.py), in the order of events that hung.

An RQ worker's commands thread (redis-py's PubSubWorkerThread, on a real Redis) is stopped
by `django_prodserver.serving.rq.unsubscribe`, as `install()` sets it. The test holds the
worker's main thread back right after it sends UNSUBSCRIBE until the commands thread has read
the reply: on a busy machine that happens by itself now and then, and with RQ's own
`unsubscribe` the thread then waits a minute for a subscription, with the worker's stop
waiting on it (redis-py 8.2). The end-to-end test in test_rq.py catches that only as often as
the machine's timing allows.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

pytestmark = pytest.mark.worker

# Once told to end, the thread ends within milliseconds; the hang lasted RQ's 60 s poll.
STOP_BOUND = 10


def test_the_commands_thread_ends_even_when_it_reads_the_unsubscribe_reply_first(
    redis_url, monkeypatch
):
    from redis import Redis
    from rq import Queue, Worker
    from rq.worker.base import BaseWorker

    from django_prodserver.serving.rq import install

    # install() replaces RQ's method as the worker process does; the test puts it back.
    monkeypatch.setattr(BaseWorker, "unsubscribe", BaseWorker.unsubscribe)
    install()
    connection = Redis.from_url(redis_url)
    worker = Worker([Queue("default", connection=connection)], connection=connection)
    worker.subscribe()
    pubsub: Any = worker.pubsub
    thread: Any = worker.pubsub_thread
    send_unsubscribe = pubsub.unsubscribe

    def unsubscribe_then_wait_for_the_thread_to_read_the_reply(*args: object) -> object:
        sent = send_unsubscribe(*args)
        deadline = time.monotonic() + STOP_BOUND
        while pubsub.subscribed and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # the thread loops again, if it is still told to run
        return sent

    pubsub.unsubscribe = unsubscribe_then_wait_for_the_thread_to_read_the_reply
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    began = time.monotonic()
    stopping.start()
    stopping.join(STOP_BOUND)

    assert not stopping.is_alive(), f"the worker's unsubscribe still waits after {STOP_BOUND} s"
    assert not thread.is_alive()
    assert not pubsub.subscribed
    print(f"commands thread ended {time.monotonic() - began:.2f} s after the stop began")
    connection.close()
