"""hypercorn's graceful stop, with a linger for its kept-alive HTTP/1.1 connections.

On a stop, a hypercorn worker marks its connections terminated; then
- each idle keep-alive connection is closed at once: a request its client sends at that
  moment is lost (the client sees the connection close without an answer);
- a connection whose request is in progress is closed right after the response, which did
  not say `Connection: close`: a client that sends its next request meanwhile loses it.
Here an idle connection is still read for `LINGER` seconds (within hypercorn's
`graceful_timeout`); every response sent after the stop says `Connection: close`, and a
connection whose last response did not (it was under way at the stop) serves one more
request, answered so. A connection still idle when the linger ends is closed.

hypercorn's workers are fresh interpreters (multiprocessing's spawn): `use_in_workers`
makes them start with the change. It covers hypercorn's asyncio and uvloop workers over
HTTP/1.1, each part only where hypercorn has the methods it relies on; HTTP/2 and the trio
worker stop as hypercorn does.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

from django_prodserver.serving.linger import CLOSE_HEADER, linger_within

WORKERS = ("asyncio_worker", "uvloop_worker")
_hypercorns_workers: dict[str, Callable[..., Any]] = {}


def use_in_workers() -> None:
    """Make hypercorn start its workers (or run its one in-process worker) with the linger."""
    from hypercorn.asyncio import run

    for name, worker in (("asyncio_worker", asyncio_worker), ("uvloop_worker", uvloop_worker)):
        if name in vars(run):
            _hypercorns_workers[name] = getattr(run, name)
            setattr(run, name, worker)  # hypercorn.run imports it by name at each start


def asyncio_worker(*args: Any, **kwargs: Any) -> None:
    run_worker("asyncio_worker", args, kwargs)


def uvloop_worker(*args: Any, **kwargs: Any) -> None:
    run_worker("uvloop_worker", args, kwargs)


def run_worker(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    from hypercorn.asyncio import run

    install()
    # In a spawned worker hypercorn's module is its own again; in-process it holds ours.
    worker = _hypercorns_workers.get(name) or getattr(run, name)
    worker(*args, **kwargs)


def install() -> None:
    from asyncio import base_events

    from hypercorn.asyncio.tcp_server import TCPServer
    from hypercorn.protocol.h11 import H11Protocol

    server: Any = base_events.Server
    if callable(getattr(server, "_wakeup", None)):
        server._wakeup = waking_waiters_once(server._wakeup)
    if callable(getattr(server, "_attach", None)):
        server._attach = attaching_after_the_close(server._attach)
    if has_methods(TCPServer, "_idle_timeout", "_initiate_server_close"):
        TCPServer._idle_timeout = lingering_idle_timeout  # type: ignore[method-assign]
    if has_methods(H11Protocol, "stream_send", "_maybe_recycle", "_close_stream"):
        sending = closing_after_the_stop(H11Protocol.stream_send)
        H11Protocol.stream_send = sending  # type: ignore[method-assign]
        H11Protocol._maybe_recycle = recycle_unless_closing  # type: ignore[method-assign]


def waking_waiters_once(wakeup: Callable[[Any], None]) -> Callable[[Any], None]:
    """asyncio's `Server._wakeup`, harmless when called a second time.

    A connection accepted in the instant the worker closes its server (the listening socket
    is the runner's or systemd's, and keeps receiving) attaches to the closed server; when
    it ends, asyncio (3.13.0 here) wakes the server's waiters again, and they are gone:
    "TypeError: 'NoneType' object is not iterable", printed as the worker stops.
    """

    def wake_once(self: Any) -> None:
        if getattr(self, "_waiters", None) is not None:
            wakeup(self)

    return wake_once


def attaching_after_the_close(attach: Callable[..., None]) -> Callable[..., None]:
    """asyncio's `Server._attach`, for a connection accepted just before the server closed.

    asyncio accepts a connection, then creates its transport, which attaches to the
    server, in a later step of the loop. If the worker closed its server in between (the
    listening socket is the runner's or systemd's, and keeps receiving), asyncio asserts
    that the server is open, and the connection is closed unanswered: its client sees a
    reset. Here it attaches all the same, and hypercorn answers it as it stops.
    """

    def attach_even_if_closed(self: Any, *transport: Any) -> None:
        if self._sockets is not None:
            attach(self, *transport)
            return
        self._sockets = []  # open, for asyncio's assertion only
        try:
            attach(self, *transport)
        finally:
            self._sockets = None

    return attach_even_if_closed


def has_methods(cls: type, *names: str) -> bool:
    return all(callable(getattr(cls, name, None)) for name in names)


def linger_for(config: Any) -> float:
    return linger_within(getattr(config, "graceful_timeout", None))


async def lingering_idle_timeout(self: Any) -> None:
    """hypercorn's idle timeout of a connection, which waits `LINGER` more on a stop.

    A request arriving meanwhile cancels it, as it cancels hypercorn's.
    """
    try:
        await asyncio.wait_for(self.context.terminated.wait(), self.config.keep_alive_timeout)
    except asyncio.TimeoutError:
        pass  # kept alive long enough
    else:
        await asyncio.sleep(linger_for(self.config))
    await asyncio.shield(self._initiate_server_close())


def closing_after_the_stop(stream_send: Callable[..., Any]) -> Callable[..., Any]:
    from hypercorn.protocol.events import Response

    async def send_saying_close(self: Any, event: Any) -> None:
        if (
            isinstance(event, Response)
            and event.status_code >= 200
            and self.context.terminated.is_set()
            and CLOSE_HEADER not in event.headers
        ):
            event = dataclasses.replace(event, headers=[*event.headers, CLOSE_HEADER])
        await stream_send(self, event)

    return send_saying_close


async def recycle_unless_closing(self: Any) -> None:
    """hypercorn's end of a request, but for one thing: after the stop, a connection whose
    response did not say `Connection: close` stays open for one more request.

    h11 decides: after a response saying close it cannot start a next cycle.
    """
    import h11
    from hypercorn.events import Closed, Updated

    await self._close_stream()
    if self.connection.our_state is h11.DONE and self.connection.their_state is h11.DONE:
        try:
            self.connection.start_next_cycle()
        except h11.LocalProtocolError:
            await self.send(Closed())
        else:
            self.response = None
            self.scope = None
            await self.can_read.set()
            await self.send(Updated(idle=True))
    else:
        await self.can_read.set()
        await self.send(Closed())
