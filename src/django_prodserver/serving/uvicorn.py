"""uvicorn's own command, with three changes: TCP sockets without Nagle's algorithm, every
inherited socket served, and a linger for idle connections as it stops (`uvicorn_linger`).

Run as `python -m django_prodserver.serving.uvicorn ARGS`, the equivalent of `uvicorn ARGS`.

With `--workers` (and `--reload`), uvicorn binds the listening socket itself, as
`socket.socket(family)`: its protocol number is 0, and asyncio sets TCP_NODELAY only on
sockets whose protocol is IPPROTO_TCP. Each response then waits for the client's delayed
ACK (about 40 ms on Linux) before its last segment leaves, on every request of a kept-open
connection. Here the listening socket gets TCP_NODELAY before the workers start; on Linux
each accepted connection inherits it. uvicorn without `--workers` sets it already.

Inherited sockets (`DJANGO_PRODSERVER_UVICORN_FDS`, set by the plan of a process given
sockets by systemd or the runner): uvicorn's `--fd` takes one, and reads it as a unix
socket whatever it is (no TCP_NODELAY then either). Here each fd becomes a socket of its
real family, with TCP_NODELAY, and uvicorn's server, its worker processes and its reloader
are all given the whole list, as uvicorn does for gunicorn's workers.
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
from typing import Any

SERVE_FDS = "DJANGO_PRODSERVER_UVICORN_FDS"


def without_nagle(sock: socket.socket) -> socket.socket:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def inherited_sockets(text: str) -> list[socket.socket]:
    """The listening sockets at the fds of `text` ("7,9"), each of its own family."""
    return [without_nagle(socket.socket(fileno=int(fd))) for fd in text.split(",") if fd]


def serve_on(sockets: list[socket.socket]) -> None:
    """Make uvicorn's one server, its workers and its reloader serve on `sockets`."""
    from uvicorn.server import Server

    # The module, not the `uvicorn.main` attribute (uvicorn's package names its command so).
    command_module = importlib.import_module("uvicorn.main")

    run = Server.run

    def run_on_sockets(self: Server, given: list[socket.socket] | None = None) -> None:
        run(self, sockets if given is None else given)

    Server.run = run_on_sockets  # type: ignore[method-assign,assignment]
    for name in ("Multiprocess", "ChangeReload"):
        supervisor = getattr(command_module, name)
        setattr(command_module, name, with_sockets(supervisor, sockets))


def with_sockets(supervisor: Any, sockets: list[socket.socket]) -> Any:
    def start(*args: Any, **kwargs: Any) -> Any:
        kwargs["sockets"] = sockets
        return supervisor(*args, **kwargs)

    return start


def main() -> None:
    from uvicorn.config import Config
    from uvicorn.main import main as uvicorn_main

    from django_prodserver.serving import uvicorn_linger

    uvicorn_linger.install()
    uvicorn_linger.use_in_workers()
    bind_socket = Config.bind_socket
    Config.bind_socket = lambda self: without_nagle(bind_socket(self))  # type: ignore[method-assign]
    fds = os.environ.pop(SERVE_FDS, "")
    if fds:
        serve_on(inherited_sockets(fds))
    sys.argv[0] = "uvicorn"
    uvicorn_main()


if __name__ == "__main__":
    main()
