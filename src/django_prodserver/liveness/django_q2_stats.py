"""A django-q2 cluster's liveness: the stats its sentinel keeps in the broker (`Stat.get_all()`).

A cluster refreshes its stats while it runs; the probe looks for one on this host whose
sentinel is still alive and which is not stopped.
"""

from __future__ import annotations

import socket

from django_prodserver.errors import ProbeFailed
from django_prodserver.liveness.rq_heartbeat import pid_runs


def check_cluster(process: str) -> str:
    from django_q.conf import Conf  # type: ignore[import-untyped]
    from django_q.status import Stat  # type: ignore[import-untyped]

    host = socket.gethostname()
    try:
        stats = Stat.get_all()
    except Exception as error:  # the broker's own errors
        raise ProbeFailed(f"Process '{process}': cannot read django-q2's stats: {error}.") from None
    for stat in stats:
        if stat.host == host and stat.status != Conf.STOPPED and pid_runs(stat.sentinel):
            return f"the django-q2 cluster {stat.cluster_id} is {str(stat.status).lower()}"
    raise ProbeFailed(
        f"Process '{process}': no running django-q2 cluster on {host} in its stats "
        f"(stopped, or its stats are kept in a cache this process does not share: "
        f"a local-memory cache is per process)."
    )
