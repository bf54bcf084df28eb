"""What the runner holds for each process before it becomes the supervisor: its sockets,
how a reload replaces it, and the health check that lets a new child in.

Worked out in the Django process, from each process's plan: the supervisor that runs the
children has no Django, no backends and no plans, only what `Holding` says.

How a reload replaces a process (`Holding.style`):

- `replace`: a web server that takes the runner's socket. A new child starts on the same
  socket plus a private loopback one, passes its HEALTH check there, then the old one is
  stopped warmly. The port is never closed.
- `beside`: a web server that binds its address itself with SO_REUSEPORT (granian). A new
  child starts beside the old one; once the new child's processes hold a listening socket
  on the port and the HEALTH check through the address passes, the old one is stopped.
- `restart`: everything else (workers, a web server whose address the runner cannot
  read): stopped warmly, then started again.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django_prodserver.backends.base import Address, Backend, Plan
from django_prodserver.errors import ProdserverError
from django_prodserver.liveness.http import connect_host, default_host_header
from django_prodserver.runner.sockets import DEFAULT_BACKLOG, ListenError, bind_tcp, bind_unix

REPLACE = "replace"
BESIDE = "beside"
RESTART = "restart"
# The server options (their own keys) that shape the socket the server would have bound.
BACKLOG_KEYS = ("backlog",)
UNIX_MODE_KEYS = ("unix_socket_perms",)  # waitress: octal text, "600"
UMASK_KEYS = ("umask",)  # gunicorn: the umask it binds under


class SocketBindError(ProdserverError):
    pass


@dataclass(frozen=True)
class Holding:
    """What the runner holds and knows of one process across its runs."""

    style: str = RESTART
    fds: tuple[int, ...] = ()
    # Where the address is, as said in the runner's messages.
    where: str = ""
    # The HEALTH check of a new child: path, status, host header, and for `beside` the
    # host and port to ask.
    probe: dict[str, Any] = field(default_factory=dict)


def hold(ready: Sequence[tuple[Backend, Plan]]) -> dict[str, Holding]:
    """Each process's holding; the sockets of those that take one are bound now.

    An address the runner cannot listen on is an error that names the process.
    """
    held: dict[str, Holding] = {}
    try:
        for backend, plan in ready:
            held[backend.name] = holding_of(backend, plan)
    except BaseException:
        for holding in held.values():
            for fd in holding.fds:
                os.close(fd)
        raise
    return held


def holding_of(backend: Backend, plan: Plan) -> Holding:
    if backend.kind != "web":
        return Holding()
    address = backend.listen_address(plan)
    if address is None:
        return Holding()
    health = backend.spec.health
    probe: dict[str, Any] = {
        "path": health.path,
        "status": health.status,
        "host": health.host or default_host_header(address),
    }
    if backend.takes_sockets:
        listener = bind(backend.name, address, plan)
        return Holding(REPLACE, (listener.detach(),), shown(address), probe)
    if getattr(backend, "reuses_port", False) and address.path is None:
        probe.update(connect=connect_host(address), port=address.port)
        return Holding(BESIDE, (), shown(address), probe)
    return Holding()


def bind(name: str, address: Address, plan: Plan) -> socket.socket:
    backlog = number(plan, BACKLOG_KEYS, 10) or DEFAULT_BACKLOG
    try:
        if address.path is not None:
            mode = number(plan, UNIX_MODE_KEYS, 8)
            umask = number(plan, UMASK_KEYS, 0)
            return bind_unix(address.path, backlog, mode, umask)
        assert address.port is not None
        return bind_tcp(address.host, address.port, backlog)
    except (OSError, ListenError) as error:
        reason = error.strerror or str(error)
        raise SocketBindError(
            f"Process '{name}': the runner cannot listen on {shown(address)} ({reason}). "
            f"Stop what holds it, or give '{name}' another address in ARGS."
        ) from None


def number(plan: Plan, keys: Sequence[str], base: int) -> int | None:
    """The value of the first of `keys` the plan sets, read in `base` (0: as Python does)."""
    for key in keys:
        value = plan.value(key)
        if value:
            try:
                return int(value, base)
            except ValueError:
                return None  # the server's own validation has spoken already
    return None


def shown(address: Address) -> str:
    if address.path is not None:
        return f"unix:{address.path}"
    host = address.host or "0.0.0.0"
    return f"[{host.strip('[]')}]:{address.port}" if ":" in host else f"{host}:{address.port}"
