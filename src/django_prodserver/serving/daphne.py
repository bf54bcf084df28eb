"""daphne's own command, with two changes: its `fd:` endpoint adopts a socket of any family,
and leaves a unix socket's file in place; and it stops gracefully (serving.daphne_drain).

Run as `python -m django_prodserver.serving.daphne ARGS`, the equivalent of `daphne ARGS`,
for a process that serves on inherited sockets (`-e fd:fileno=N`, one per socket). daphne's
`fd:` endpoint adopts the socket as IPv4 unless told otherwise, and its `domain` parameter
arrives as text, which Twisted refuses: a unix or IPv6 socket from systemd or the runner
could not be served. Here the endpoint asks the socket its family. And when it stops,
Twisted shuts an adopted unix socket down and removes its file: here both stay, for the
next server on the same socket.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from django_prodserver.serving import daphne_drain


def adopt_with_its_family(self: Any, reactor: Any, fileno: str, domain: object = None) -> Any:
    from twisted.internet.endpoints import AdoptedStreamServerEndpoint

    class AdoptedSocket(AdoptedStreamServerEndpoint):
        def listen(self, factory: Any) -> Any:
            listening = super().listen(factory)  # type: ignore[no-untyped-call]
            if self.addressFamily == socket.AF_UNIX:
                listening.addCallback(keep_socket_file)
            return listening

    fd = int(fileno)
    with socket.socket(fileno=os.dup(fd)) as sock:
        family = sock.family
    return AdoptedSocket(reactor, fd, family)  # type: ignore[no-untyped-call]


def keep_socket_file(port: Any) -> Any:
    """An adopted unix socket stays as it is when daphne stops: it is systemd's or the
    runner's, and the next server serves on it. Twisted's unix port (26.10) would shut the
    socket down, which stops it listening in every process that holds it (its TCP port
    spares an adopted socket that), then remove its file."""
    from twisted.internet import tcp

    port._shouldShutdown = False

    def connection_lost(reason: Any) -> None:
        if port.lockFile is not None:
            port.lockFile.unlock()
        tcp.Port.connectionLost(port, reason)  # type: ignore[no-untyped-call]

    port.connectionLost = connection_lost
    return port


def main() -> None:
    # The module Twisted's plugin system loads the `fd:` parser from (daphne installs it).
    from twisted.plugins import fd_endpoint

    fd_endpoint._FDParser._parseServer = adopt_with_its_family  # type: ignore[method-assign]
    daphne_drain.install()
    from daphne.cli import CommandLineInterface

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
