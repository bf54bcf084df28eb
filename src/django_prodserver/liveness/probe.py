"""`manage.py prodserver --probe NAME`: is the running process alive and answering?

The backend asks its framework where the framework can (a Celery ping, RQ's heartbeat,
django-q2's cluster stats); otherwise a web process gets one HTTP GET to its health path,
and a worker a look for its process.
"""

from __future__ import annotations

from django_prodserver.errors import ProbeFailed
from django_prodserver.liveness.http import http_check, run_http_check
from django_prodserver.liveness.process import check_process_alive
from django_prodserver.planning import PlannedProcess


def probe(planned: PlannedProcess) -> str:
    """What was seen of a healthy process, as one line; ProbeFailed (non-zero exit) if not."""
    backend, plan = planned.ready()
    own = backend.probe(plan)
    if own is not None:
        return f"Process '{planned.name}': {own}."
    if backend.kind == "web":
        address = backend.listen_address(plan)
        if address is None:
            raise ProbeFailed(
                f"Process '{planned.name}': cannot tell where {backend.server} listens (a "
                f"file descriptor, or an address the plan does not give), so there is "
                f"nothing to ask. Bind it to a host and port or a unix socket in ARGS."
            )
        return f"Process '{planned.name}': {run_http_check(http_check(planned.spec, address))}."
    return (
        f"Process '{planned.name}': {check_process_alive(planned.name, backend.server, plan.argv)}."
    )
