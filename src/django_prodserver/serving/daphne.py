"""daphne's own command, with one change: its `fd:` endpoint adopts a socket of any family.

Run as `python -m django_prodserver.serving.daphne ARGS`, the equivalent of `daphne ARGS`,
for a process that serves on inherited sockets (`-e fd:fileno=N`, one per socket). daphne's
`fd:` endpoint adopts the socket as IPv4 unless told otherwise, and its `domain` parameter
arrives as text, which Twisted refuses: a unix or IPv6 socket from systemd or the runner
could not be served. Here the endpoint asks the socket its family.
"""

from __future__ import annotations

import os
import socket
from typing import Any


def adopt_with_its_family(self: Any, reactor: Any, fileno: str, domain: object = None) -> Any:
    from twisted.internet.endpoints import AdoptedStreamServerEndpoint

    fd = int(fileno)
    with socket.socket(fileno=os.dup(fd)) as sock:
        family = sock.family
    return AdoptedStreamServerEndpoint(reactor, fd, family)  # type: ignore[no-untyped-call]


def main() -> None:
    # The module Twisted's plugin system loads the `fd:` parser from (daphne installs it).
    from twisted.plugins import fd_endpoint

    fd_endpoint._FDParser._parseServer = adopt_with_its_family  # type: ignore[method-assign]
    from daphne.cli import CommandLineInterface

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
