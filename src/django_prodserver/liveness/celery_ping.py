"""A Celery worker's liveness: a ping through the broker to its own node, answered by the worker.

A worker stuck so that it no longer reads its control queue does not answer, though its
process is alive. The node name is the worker's `--hostname` (Celery's `%h`, `%n`, `%d`
expanded as the worker expands them), by default `celery@` and this machine's host name.
"""

from __future__ import annotations

from typing import Any

from django_prodserver.errors import ProbeFailed
from django_prodserver.masking import mask_secrets


def node_name(hostname: str | None) -> str:
    from celery.utils.nodenames import default_nodename, host_format

    return str(host_format(default_nodename(hostname)))


def ping_node(app: Any, node: str, process: str, timeout: float) -> str:
    try:
        replies = app.control.ping(destination=[node], timeout=timeout)
    except Exception as error:  # the broker's client raises its own kinds
        raise ProbeFailed(
            mask_secrets(
                f"Process '{process}': cannot ping the Celery worker {node}: the broker at "
                f"{app.connection_for_write().as_uri()} fails: {error}."
            )
        ) from None
    answered = {name for reply in replies or [] for name in reply}
    if node not in answered:
        raise ProbeFailed(
            f"Process '{process}': the Celery worker {node} did not answer a ping within "
            f"{timeout:g} s (stopped, stuck, or named otherwise: its --hostname)."
        )
    return f"the Celery worker {node} answered a ping"
