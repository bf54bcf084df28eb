"""A web process started with inherited sockets serves on them, not on its own address.

`prodserver NAME` takes the sockets (`take_sockets`) before it plans its process, then asks
`serve_inherited_sockets`: when systemd (socket activation) or the runner passed listening
sockets, the plan is made again with
the server's own options for them (gunicorn's `fd://`, uvicorn's `--fd`, ...), and a line
says which sockets replace which configured address. A web server that cannot take a
socket (granian, the development servers, a third party's backend that does not say it
can) is refused with the reason: serving elsewhere than where systemd listens would leave
the socket's connections unanswered.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import replace

from django_prodserver.backends.base import Address
from django_prodserver.errors import ProdserverError
from django_prodserver.inherited_sockets import (
    InheritedSocketError,
    InheritedSockets,
    take_inherited_sockets,
)
from django_prodserver.planning import PlannedProcess


def take_sockets(
    process: str, environ: MutableMapping[str, str] | None = None
) -> InheritedSockets | None:
    """The sockets this process inherited, their variables removed from `environ`.

    Taken before the process is planned: planning imports the server, and Twisted (daphne)
    removes systemd's variables as it is imported.
    """
    try:
        return take_inherited_sockets(os.environ if environ is None else environ)
    except InheritedSocketError as error:
        raise ProdserverError(f"Process '{process}': {error}") from None


def serve_inherited_sockets(
    process: PlannedProcess, inherited: InheritedSockets
) -> tuple[PlannedProcess, str]:
    """`process` planned on the sockets it inherited, and the line that says so."""
    backend, plan = process.ready()
    if backend.kind != "web":
        raise ProdserverError(
            f"Process '{process.name}': {inherited.passed()}, but it is a {backend.kind} "
            f"process, which serves no HTTP. Pass listening sockets to web processes only"
            f"{unit_fix(inherited)}."
        )
    if not backend.takes_sockets:
        raise ProdserverError(refusal(process, inherited))
    configured = backend.listen_address(plan)
    on_sockets, replaced = backend.serve_on_sockets(plan, inherited.fds)
    instead = ", ".join(replaced) if replaced else f"the default address {address(configured)}"
    line = f"{process.name}: serving on {inherited.describe()} instead of {instead}"
    return replace(process, plan=on_sockets), line


def refusal(process: PlannedProcess, inherited: InheritedSockets) -> str:
    assert process.backend is not None
    backend = process.backend
    what = "a development server" if backend.development_server else backend.server
    return (
        f"Process '{process.name}': {inherited.passed()}, but {what} cannot serve on an "
        f"inherited socket: {backend.sockets_refusal}. Nothing would answer the connections "
        f"made to it: stop passing sockets to this process{unit_fix(inherited)}, or serve it "
        f"with a server that takes them (gunicorn, uvicorn, hypercorn, daphne, waitress)."
    )


def unit_fix(inherited: InheritedSockets) -> str:
    if inherited.source != "systemd":
        return ""
    return " (remove the .socket unit that starts its service; export without --socket-activation)"


def address(configured: Address | None) -> str:
    if configured is None:
        return "(set by the server)"
    if configured.path is not None:
        return f"unix:{configured.path}"
    host = f"[{configured.host}]" if ":" in configured.host else configured.host
    return f"{host}:{configured.port}"
