"""uvicorn's graceful stop, with a linger for its idle connections.

On a stop, uvicorn's `shutdown()` closes at once each connection with no request in
progress: an idle keep-alive connection, or one accepted whose request is not read yet.
A request its client sends at that moment is lost (the client sees the connection close
without an answer). Here such a connection is still read for `LINGER` seconds (within
uvicorn's `--timeout-graceful-shutdown`): the request it receives is answered with
`Connection: close`, and the connection closes after the response; one still idle when
the linger ends is closed by uvicorn's own `shutdown()`. Connections serving a request at
the stop are left to uvicorn, which already answers it with `Connection: close`.

Both of uvicorn's HTTP/1.1 protocols (h11 and httptools) are wrapped, each only if it has
the methods this relies on: with another uvicorn the stop is uvicorn's own. uvicorn's
worker processes (`--workers`, and `--reload`'s server) are fresh interpreters
(multiprocessing's spawn): `use_in_workers` makes each start with the linger too.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import Any

from django_prodserver.serving.linger import CLOSE_HEADER, linger_within

PROTOCOLS = (
    ("uvicorn.protocols.http.h11_impl", "H11Protocol"),
    ("uvicorn.protocols.http.httptools_impl", "HttpToolsProtocol"),
)
NEEDED = ("shutdown", "data_received")
LINGERING = "_django_prodserver_lingering"


_uvicorns_start: list[Callable[..., None]] = []


def use_in_workers() -> None:
    """Make uvicorn's worker processes install the linger as they start."""
    try:
        from uvicorn import _subprocess
    except ImportError:
        return
    started = getattr(_subprocess, "subprocess_started", None)
    if callable(started) and callable(getattr(_subprocess, "get_subprocess", None)):
        _uvicorns_start.append(started)
        # get_subprocess names it as the spawned process's target when it is called.
        _subprocess.subprocess_started = started_with_linger  # type: ignore[assignment]


def started_with_linger(**kwargs: Any) -> None:
    """A worker process's start: the linger, then uvicorn's own start."""
    from uvicorn import _subprocess

    install()
    # In a spawned worker uvicorn's module is its own again; in-process it holds ours.
    started = _uvicorns_start[0] if _uvicorns_start else _subprocess.subprocess_started
    started(**kwargs)


def install() -> None:
    for module_name, class_name in PROTOCOLS:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # httptools is optional
            continue
        protocol = getattr(module, class_name, None)
        if protocol is not None and all(callable(getattr(protocol, n, None)) for n in NEEDED):
            add_linger(protocol)


def linger_for(config: Any) -> float:
    return linger_within(getattr(config, "timeout_graceful_shutdown", None))


def idle(connection: Any) -> bool:
    cycle = getattr(connection, "cycle", None)
    return cycle is None or bool(getattr(cycle, "response_complete", False))


def add_linger(protocol: Any) -> None:
    shutdown = protocol.shutdown
    data_received = protocol.data_received

    def lingering_shutdown(self: Any) -> None:
        if not idle(self) or getattr(self, LINGERING, False):
            shutdown(self)
            return
        setattr(self, LINGERING, True)
        loop = getattr(self, "loop", None) or asyncio.get_running_loop()
        loop.call_later(linger_for(getattr(self, "config", None)), linger_ended, self)

    def linger_ended(self: Any) -> None:
        transport = getattr(self, "transport", None)
        if transport is not None and not transport.is_closing():
            shutdown(self)  # closes it if still idle

    def received(self: Any, data: bytes) -> None:
        data_received(self, data)
        cycle = getattr(self, "cycle", None)
        if getattr(self, LINGERING, False) and cycle is not None:
            last_request(cycle)

    protocol.shutdown = lingering_shutdown
    protocol.data_received = received


def last_request(cycle: Any) -> None:
    """Answer the request of `cycle` with `Connection: close`; the connection closes after.

    httptools' cycle adds the header itself when it does not keep alive; h11's only when
    the request had it: a default header does it for both (h11 then closes as it must).
    """
    cycle.keep_alive = False
    headers = getattr(cycle, "default_headers", None)
    if isinstance(headers, list) and CLOSE_HEADER not in headers:
        cycle.default_headers = [*headers, CLOSE_HEADER]
