"""An RQ worker's liveness: its heartbeat in Redis is fresh, and its process runs here.

RQ keeps each worker's registration in Redis with its last heartbeat; a worker that is
killed leaves it behind until its TTL runs out, so the worker's PID (on this host) is
looked at as well.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from django_prodserver.errors import ProbeFailed


def pid_runs(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_heartbeat(connection: Any, process: str, queues: Sequence[str], name: str | None) -> str:
    from rq import Worker

    host = socket.gethostname()
    try:
        workers = Worker.all(connection=connection)
    except Exception as error:  # redis-py's errors, and RQ's own
        raise ProbeFailed(f"Process '{process}': cannot read RQ's workers: {error}.") from None
    mine = [
        worker
        for worker in workers
        if worker.hostname == host
        and (name is None or worker.name == name)
        and set(worker.queue_names()) == set(queues)
    ]
    now = datetime.now(timezone.utc)
    for worker in mine:
        beat = worker.last_heartbeat
        if beat is None or not pid_runs(worker.pid):
            continue
        age = (now - beat.replace(tzinfo=beat.tzinfo or timezone.utc)).total_seconds()
        if age <= worker.worker_ttl:
            return f"the RQ worker {worker.name} (PID {worker.pid}) beat {age:.0f} s ago"
    raise ProbeFailed(
        f"Process '{process}': no RQ worker of queues {', '.join(queues)} on {host} has a "
        f"fresh heartbeat ({len(mine)} registered here, none alive)."
    )
