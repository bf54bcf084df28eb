"""systemd socket activation: a .socket unit that holds a web process's address.

With `--export systemd --socket-activation`, systemd binds each web process's address (its
configured one, TCP or a unix socket) and passes the listening socket to the service, which
serves on it (`prodserver NAME` reads LISTEN_FDS: socket_handover.py). The socket outlives
the service: a `systemctl restart` queues the connections that arrive meanwhile instead of
refusing them. A server that cannot take a socket (granian) gets no .socket unit.
"""

from __future__ import annotations

import ipaddress

from django_prodserver.backends.base import Address
from django_prodserver.errors import ProdserverError
from django_prodserver.exports.deployment import ExportedProcess


def socket_activated(process: ExportedProcess, socket_activation: bool) -> bool:
    """Whether `process` gets a .socket unit: a web process whose server takes sockets."""
    return (
        socket_activation
        and process.kind == "web"
        and process.takes_sockets
        and process.address is not None
    )


def listen_stream(process: ExportedProcess) -> str:
    """The ListenStream= value for the process's address: `IP:PORT`, `[IPv6]:PORT`, a path."""
    address = process.address
    assert address is not None
    if address.path is not None:
        if not address.path.startswith("/"):
            raise ProdserverError(
                f"Process '{process.name}': --socket-activation needs the unix socket's "
                f"absolute path for ListenStream=, got '{address.path}'. Give the path from "
                f"/ in ARGS (e.g. /run/{process.ident}/web.sock)."
            )
        return address.path
    return f"{listen_host(process, address)}:{address.port}"


def listen_host(process: ExportedProcess, address: Address) -> str:
    host = "127.0.0.1" if address.host == "localhost" else address.host
    if not host:
        return "0.0.0.0"
    try:
        parsed = ipaddress.ip_address(host)
    except ValueError:
        raise ProdserverError(
            f"Process '{process.name}': --socket-activation writes its address into "
            f"ListenStream=, which takes an IP address, not the name '{host}'. Give the IP "
            f"address in ARGS (0.0.0.0 for every interface)."
        ) from None
    return f"[{parsed}]" if parsed.version == 6 else str(parsed)


def socket_settings(process: ExportedProcess) -> list[tuple[str, str]]:
    """The [Socket] settings beside ListenStream=, as the server would have bound it."""
    unix = process.address is not None and process.address.path is not None
    return [
        (name, value)
        for name, value in process.socket_settings.items()
        if unix or name != "SocketMode"
    ]
