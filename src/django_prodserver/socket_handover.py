"""A web process started with inherited sockets serves on them, not on its own address.

`prodserver NAME` asks `serve_inherited_sockets` once its process is planned: when systemd
(socket activation) or the runner passed listening sockets, the plan is made again with
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


def serve_inherited_sockets(
    process: PlannedProcess, environ: MutableMapping[str, str] | None = None
) -> tuple[PlannedProcess, str | None]:
    """`process` planned on the sockets it inherited, and the line that says so.

    Unchanged, with no line, when it inherited none or is no web process (a worker leaves
    the variables alone). The variables are removed from `environ` (this process's
    environment, which the server and its workers get).
    """
    backend = process.backend
    if backend is None or process.plan is None or backend.kind != "web":
        return process, None
    environ = os.environ if environ is None else environ
    try:
        inherited = take_inherited_sockets(environ)
    except InheritedSocketError as error:
        raise ProdserverError(f"Process '{process.name}': {error}") from None
    if inherited is None:
        return process, None
    if not backend.takes_sockets:
        raise ProdserverError(refusal(process, inherited))
    configured = backend.listen_address(process.plan)
    plan, replaced = backend.serve_on_sockets(process.plan, inherited.fds)
    instead = ", ".join(replaced) if replaced else f"the default address {address(configured)}"
    line = f"{process.name}: serving on {inherited.describe()} instead of {instead}"
    return replace(process, plan=plan), line


def refusal(process: PlannedProcess, inherited: InheritedSockets) -> str:
    assert process.backend is not None
    backend = process.backend
    what = "a development server" if backend.development_server else backend.server
    return (
        f"Process '{process.name}': {inherited.describe()} (in {inherited.variable}), but "
        f"{what} cannot serve on them: {backend.sockets_refusal}. Nothing else would answer "
        f"the connections made to them: stop passing sockets to this process"
        f"{' (remove its .socket unit)' if inherited.source == 'systemd' else ''}, or give "
        f"it a server that takes them (gunicorn, uvicorn, hypercorn, daphne, waitress)."
    )


def address(configured: Address | None) -> str:
    if configured is None:
        return "(set by the server)"
    if configured.path is not None:
        return f"unix:{configured.path}"
    host = f"[{configured.host}]" if ":" in configured.host else configured.host
    return f"{host}:{configured.port}"
