"""Two processes configured with one pidfile, or one address to listen on.

Two processes that name the same pidfile, unix socket, or host and port cannot run on
one machine; the second one fails to start or takes over the first one's file.
`manage.py check` compares what ARGS says only: $PORT and a server's defaults are the
same for every process on the machine that checks, not on those that run them. Run
together, processes share that machine, so the address each would listen on, wherever
it comes from, is compared too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from django_prodserver.backends.base import Address, Backend, Plan
from django_prodserver.backends.web_server import ServerBackend
from django_prodserver.errors import ProdserverError
from django_prodserver.options import OptionValue, normalize

PIDFILE_OPTIONS = frozenset({"pidfile", "pid-file", "pid-path"})
UNIX_SOCKET_OPTIONS = frozenset({"uds", "unix-socket"})
ADDRESS_OPTIONS = frozenset({"bind", "listen"})
WILDCARD_HOSTS = frozenset({"", "*", "0.0.0.0", "::", "[::]"})
# A port without a host: the server's default host, the same for two processes alike.
DEFAULT_HOST = "(default host)"


class SharedResourceError(ProdserverError):
    check_id = "prodserver.E011"


@dataclass(frozen=True)
class Resource:
    """A pidfile, a unix socket, or a TCP host and port."""

    kind: str
    where: str
    port: str = ""

    def clashes_with(self, other: Resource) -> bool:
        if self.kind != other.kind:
            return False
        if self.kind != "tcp":
            return self.where == other.where
        if self.port != other.port:
            return False
        hosts = {self.where, other.where}
        return len(hosts) == 1 or bool(hosts & WILDCARD_HOSTS)

    def label(self) -> str:
        if self.kind == "tcp":
            return f"the address {self.where}:{self.port}"
        return f"the {self.kind} {self.where}"


@dataclass(frozen=True)
class Clash:
    first: str
    second: str
    resource: Resource
    source: str

    @property
    def message(self) -> str:
        return (
            f"Processes '{self.first}' and '{self.second}' both use "
            f"{self.resource.label()} ({self.source}): run together on one machine, "
            f"the second one fails to start or takes it over."
        )

    hint = "Give each process its own pidfile and address in ARGS."


def shared_resources(backends: Sequence[Backend]) -> list[Clash]:
    """Every pair of processes that name the same pidfile, socket or address."""
    return _clashes(
        {backend.name: resources_of(backend) for backend in backends}, "from their ARGS"
    )


def shared_listen_addresses(planned: Sequence[tuple[Backend, Plan]]) -> list[Clash]:
    """Every pair of web processes that would listen on one address on this machine."""
    used = {}
    for backend, plan in planned:
        address = backend.listen_address(plan) if backend.kind == "web" else None
        if address is not None:
            used[backend.name] = [address_resource(address)]
    return _clashes(used, "from ARGS, $PORT or the server's default")


def _clashes(used: dict[str, list[Resource]], source: str) -> list[Clash]:
    clashes = []
    for first, second in combinations(used, 2):
        for mine in used[first]:
            theirs = next((r for r in used[second] if mine.clashes_with(r)), None)
            if theirs is not None:
                clashes.append(Clash(first, second, mine, source))
                break
    return clashes


def address_resource(address: Address) -> Resource:
    if address.path is not None:
        return Resource("unix socket", address.path)
    return Resource("tcp", address.host, str(address.port))


def resources_of(backend: Backend) -> list[Resource]:
    """What the process's ARGS says it listens on and writes its pid to; [] when unknown."""
    if not isinstance(backend, ServerBackend):
        return []
    try:
        table = backend.option_table()
        options, _ = backend.configured_options(table)
        addresses = {table.find(name, backend.name)[0].key for name in backend.address_options}
    except (ProdserverError, ImportError):
        return []  # The checks of the process itself report this.
    separate_port = "port" in addresses
    return list(_resources(options, addresses, separate_port))


def _resources(
    options: Iterable[OptionValue], addresses: set[str], separate_port: bool
) -> Iterable[Resource]:
    host: str | None = None
    port = ""
    for item in options:
        name = normalize(item.option.key)
        for value in item.values:
            if name in PIDFILE_OPTIONS:
                yield Resource("pidfile", value)
            elif item.option.key not in addresses:
                continue
            elif value.startswith("unix:"):
                yield Resource("unix socket", value.removeprefix("unix:"))
            elif name in UNIX_SOCKET_OPTIONS:
                yield Resource("unix socket", value)
            elif name == "port":
                port = value
            elif name == "host" or (name == "bind" and separate_port):
                host = value
            elif name in ADDRESS_OPTIONS and ":" in value:
                where, _, number = value.rpartition(":")
                yield Resource("tcp", where, number)
    if port:
        yield Resource("tcp", DEFAULT_HOST if host is None else host, port)
