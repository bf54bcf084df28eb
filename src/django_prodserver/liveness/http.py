"""A web process's HTTP check: one GET to its health path, with a `Host` its ALLOWED_HOSTS takes.

The standard library only (`http.client`): a slim image has no curl, and a probe runs in
the image of the process it checks.
"""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass

from django.conf import settings

from django_prodserver.backends.base import Address, Backend, Plan
from django_prodserver.errors import ProbeFailed
from django_prodserver.processes import ProcessSpec

ANY_INTERFACE = ("", "0.0.0.0", "::", "*")


@dataclass(frozen=True)
class HttpCheck:
    """Where and what to ask a web process, and the status that says it is healthy."""

    process: str
    address: Address
    path: str
    status: int
    host_header: str
    timeout: float

    @property
    def connect_host(self) -> str:
        return connect_host(self.address)

    def url(self) -> str:
        if self.address.path:
            return f"http+unix://{self.address.path}{self.path}"
        host = self.connect_host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.address.port}{self.path}"


def connect_host(address: Address) -> str:
    """The host a check beside the server connects to (an any-interface bind: loopback)."""
    if address.host == "::":
        return "::1"
    return "127.0.0.1" if address.host in ANY_INTERFACE else address.host.strip("[]")


def http_check(spec: ProcessSpec, address: Address) -> HttpCheck:
    """The check of `spec`'s HEALTH against the address its plan listens on."""
    health = spec.health
    return HttpCheck(
        process=spec.name,
        address=address,
        path=health.path,
        status=health.status,
        host_header=health.host or default_host_header(address),
        timeout=health.timeout,
    )


def default_host_header(address: Address) -> str:
    """The first concrete entry of ALLOWED_HOSTS; else the address checked (`localhost`: a socket).

    A wildcard (`*`) takes any host; `.example.com` takes `example.com` itself.
    """
    for entry in getattr(settings, "ALLOWED_HOSTS", []):
        name = str(entry).lstrip(".")
        if name and name != "*" and "*" not in name:
            return name
    if address.path:
        return "localhost"
    host = connect_host(address)
    return f"[{host}]" if ":" in host else host


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def run_http_check(check: HttpCheck) -> str:
    """GET the health path; what was seen if the status is the expected one, else ProbeFailed."""
    connection: http.client.HTTPConnection
    if check.address.path:
        connection = UnixHTTPConnection(check.address.path, check.timeout)
    else:
        connection = http.client.HTTPConnection(
            check.connect_host, check.address.port, timeout=check.timeout
        )
    try:
        connection.request("GET", check.path, headers={"Host": check.host_header})
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise ProbeFailed(
            f"Process '{check.process}': no answer from {check.url()} ({reason}). Is it "
            f"running and listening there?"
        ) from None
    finally:
        connection.close()
    if response.status != check.status:
        raise ProbeFailed(
            f"Process '{check.process}': GET {check.url()} (Host: {check.host_header}) "
            f"answered {response.status}, not the {check.status} that HEALTH['STATUS'] "
            f"expects."
            + (
                " A 400 is what Django answers a Host that ALLOWED_HOSTS refuses: set "
                "HEALTH['HOST']."
                if response.status == 400
                else ""
            )
        )
    return f"GET {check.url()} (Host: {check.host_header}) answered {response.status}"


@dataclass(frozen=True)
class WarmUp:
    """The request a warming-up server serves itself before it listens."""

    path: str
    host_header: str


def warmup_request(backend: Backend, plan: Plan) -> WarmUp | None:
    """HEALTH's warm-up request for this server; None: not asked for, or not honoured."""
    health = backend.spec.health
    if not health.warmup or not backend.warms_up(plan):
        return None
    address = backend.listen_address(plan)
    host = health.host or (default_host_header(address) if address else "localhost")
    return WarmUp(health.path, host)
