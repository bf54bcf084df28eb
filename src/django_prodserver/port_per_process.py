"""A port per web process of the runner, as foreman gives one: `PORT`, from a base in steps.

Run together, the n-th web process (counted from 0, in the order the runner starts them)
is given `PORT=base + 100 * n` when it has no address of its own, so that two web
processes configured without one do not both take `$PORT` or the server's default. The
base is `--port`, else `$PORT`, else 5000. A web process has an address of its own when
its ARGS set one of its server's address options (`bind`, `host`, `port`, a unix socket,
an inherited descriptor), its ENV sets PORT, or the server may read one from elsewhere
(gunicorn's config file, `GUNICORN_CMD_ARGS`: `ServerBackend.address_elsewhere`); it keeps
that address, and its place in the count. Workers are given no PORT.

Only the six web servers (`ServerBackend`) read PORT for their address; another web
backend (a development server, Flower, a backend of one's own) is given none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django_prodserver.backends.base import Backend
from django_prodserver.backends.web_server import ServerBackend
from django_prodserver.errors import OptionError, ProdserverError
from django_prodserver.processes import ProcessSpec

DEFAULT_BASE_PORT = 5000
STEP = 100
HIGHEST_PORT = 65535


def base_port(
    given: int | None, environ: Mapping[str, str], default: int = DEFAULT_BASE_PORT
) -> int:
    """`--port`, else `$PORT`, else `default`; an error for a port that is no port."""
    if given is not None:
        return checked_port(given, "--port")
    port = environ.get("PORT", "").strip()
    if not port:
        return default
    if not (port.isascii() and port.isdigit() and len(port) <= 5):
        raise OptionError(
            f"$PORT is {port!r}: the runner counts each web process's port from it, and it "
            f"must be a number from 1 to {HIGHEST_PORT}. Set PORT to a port, or give --port N."
        )
    return checked_port(int(port), "$PORT")


def checked_port(port: int, source: str) -> int:
    if not 1 <= port <= HIGHEST_PORT:
        raise OptionError(f"{source} is {port}: a port is a number from 1 to {HIGHEST_PORT}.")
    return port


def has_own_address(spec: ProcessSpec, backend: ServerBackend) -> bool:
    """Whether ARGS set an address option of the server, ENV sets PORT, or the server may
    read its address from a file of its own."""
    if "PORT" in spec.env:
        return True
    try:
        table = backend.option_table()
        options, _ = backend.configured_options(table)
        addresses = {table.find(name, backend.name)[0].key for name in backend.address_options}
    except (ProdserverError, ImportError):
        return True  # the plan says what is wrong; no port is given to a process unplanned
    return any(item.option.key in addresses for item in options) or backend.address_elsewhere(
        options
    )


def assigned_ports(processes: Sequence[tuple[ProcessSpec, Backend]], base: int) -> dict[str, int]:
    """The port each web process without an address of its own is given, by name."""
    web = [(spec, backend) for spec, backend in processes if backend.kind == "web"]
    ports = {}
    for index, (spec, backend) in enumerate(web):
        if not isinstance(backend, ServerBackend) or not backend.port_defaults:
            continue
        if has_own_address(spec, backend):
            continue
        port = base + STEP * index
        if port > HIGHEST_PORT:
            raise OptionError(
                f"Process '{spec.name}' would be given port {port} ({base} + {STEP} x "
                f"{index}), beyond {HIGHEST_PORT}. Give a lower --port, or set its address "
                f"in ARGS."
            )
        ports[spec.name] = port
    return ports


def port_variables(ports: Mapping[str, int], name: str) -> dict[str, str]:
    """`{"PORT": "5100"}` for a process given a port; nothing for the others."""
    return {"PORT": str(ports[name])} if name in ports else {}


def ports_note(ports: Mapping[str, int]) -> list[str]:
    """The runner's first line about ports: which process got which.

    Without `NAME=value`: the supervisor masks its messages, and a word with `=` in it has
    masking load Django's pattern of secret names (some 400 modules) into the runner.
    """
    if not ports:
        return []
    given = ", ".join(f"{name} {port}" for name, port in ports.items())
    return [f"PORT given to each web process without an address of its own: {given}."]
