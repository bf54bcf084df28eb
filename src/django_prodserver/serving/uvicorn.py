"""uvicorn's own command, with one change: its TCP sockets do without Nagle's algorithm.

Run as `python -m django_prodserver.serving.uvicorn ARGS`, the equivalent of `uvicorn ARGS`.
With `--workers` (and `--reload`), uvicorn binds the listening socket itself, as
`socket.socket(family)`: its protocol number is 0, and asyncio sets TCP_NODELAY only on
sockets whose protocol is IPPROTO_TCP. Each response then waits for the client's delayed
ACK (about 40 ms on Linux) before its last segment leaves, on every request of a kept-open
connection. Here the listening socket gets TCP_NODELAY before the workers start; on Linux
each accepted connection inherits it. uvicorn without `--workers` sets it already.
"""

from __future__ import annotations

import socket
import sys


def without_nagle(sock: socket.socket) -> socket.socket:
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def main() -> None:
    from uvicorn.config import Config
    from uvicorn.main import main as uvicorn_main

    bind_socket = Config.bind_socket
    Config.bind_socket = lambda self: without_nagle(bind_socket(self))  # type: ignore[method-assign]
    sys.argv[0] = "uvicorn"
    uvicorn_main()


if __name__ == "__main__":
    main()
