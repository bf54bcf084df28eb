"""A graceful stop for daphne: HTTP requests in flight finish, kept-alive connections linger.

daphne alone, on SIGTERM, cancels every application instance at once (its
`kill_all_applications`, django/daphne#177): a request being served is cut off, and every
open connection is closed, idle or not. Here, before that, daphne
- stops listening (a socket it was given stays open for the next server);
- answers every response started from then on with `Connection: close`, and closes the
  connection after it;
- keeps reading an idle kept-alive connection for `LINGER` seconds, so that a request its
  client sends at that moment is answered (with `Connection: close`), then closes it;
- lets HTTP requests in flight finish, for up to `DRAIN_BOUND` seconds (or daphne's
  `http_timeout`, if shorter).
Then daphne's own stop cancels what is left: WebSocket connections, and requests that
outlasted the bound.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

from django_prodserver.serving.linger import LINGER

# The longest a request in flight may delay the stop (the runner gives a process 30 s).
DRAIN_BOUND = 25.0
POLL = 0.05
CLOSE = [b"close"]


def install() -> None:
    from daphne.http_protocol import HTTPFactory, WebRequest
    from daphne.server import Server

    channels: weakref.WeakSet[Any] = weakref.WeakSet()
    HTTPFactory.buildProtocol = tracking_channels(HTTPFactory.buildProtocol, channels)
    WebRequest.handle_reply = closing_once_draining(WebRequest.handle_reply)
    Server.listen_success = remembering_ports(Server.listen_success)
    Server.kill_all_applications = draining_first(Server.kill_all_applications, channels)


def tracking_channels(build: Callable[..., Any], channels: Any) -> Callable[..., Any]:
    def build_and_track(self: Any, address: Any) -> Any:
        channel = build(self, address)
        channels.add(channel)
        return channel

    return build_and_track


def remembering_ports(listen_success: Callable[..., Any]) -> Callable[..., Any]:
    def remember(self: Any, port: Any) -> Any:
        self.__dict__.setdefault("prodserver_ports", []).append(port)
        return listen_success(self, port)

    return remember


def closing_once_draining(handle_reply: Callable[..., Any]) -> Callable[..., Any]:
    def reply(self: Any, message: Any) -> None:
        handle_reply(self, message)
        starting = isinstance(message, dict) and message.get("type") == "http.response.start"
        if starting and getattr(self.server, "prodserver_draining", False):
            say_close(self)

    return reply


def say_close(request: Any) -> None:
    """The response says `Connection: close`; Twisted closes the connection after it."""
    request.responseHeaders.setRawHeaders(b"Connection", CLOSE)
    if request.channel is not None:
        request.channel.persistent = False


def draining_first(kill_all: Callable[..., Any], channels: Any) -> Callable[..., Any]:
    def drain_then_kill(self: Any) -> Any:
        from twisted.internet import defer
        from twisted.internet import reactor as twisted_reactor

        reactor: Any = twisted_reactor  # typed by Twisted as its interfaces, not this one

        self.prodserver_draining = True
        for port in self.__dict__.get("prodserver_ports", []):
            port.stopListening()
        bound = min(DRAIN_BOUND, self.http_timeout or DRAIN_BOUND)
        started = time.monotonic()
        drained: defer.Deferred[None] = defer.Deferred()

        def check() -> None:
            waited = time.monotonic() - started
            open_channels = [channel for channel in map(http11, channels) if is_open(channel)]
            if waited >= LINGER:
                for channel in open_channels:
                    if not channel.requests:
                        channel.loseConnection()  # idle through the whole linger
            if waited >= bound or not (open_channels or requests_in_flight(self)):
                drained.callback(None)
            else:
                reactor.callLater(POLL, check)

        check()
        drained.addCallback(lambda _: kill_all(self))
        return drained

    return drain_then_kill


def requests_in_flight(server: Any) -> list[Any]:
    """HTTP requests still being answered, or whose application has not returned yet (it
    may still run after its response is sent: Django closes its database connections)."""
    from daphne.http_protocol import WebRequest

    in_flight = []
    for protocol, details in list(server.connections.items()):
        if not isinstance(protocol, WebRequest):
            continue
        instance = details.get("application_instance")
        running = instance is not None and not instance.done()
        answering = "disconnected" not in details and not protocol.finished
        if running or answering:
            in_flight.append(protocol)
    return in_flight


def http11(channel: Any) -> Any:
    """The HTTP/1.1 channel behind Twisted's protocol wrapper (None for HTTP/2: daphne's)."""
    inner = getattr(channel, "_channel", channel)
    return inner if hasattr(inner, "requests") else None


def is_open(channel: Any) -> bool:
    transport = getattr(channel, "transport", None)
    return bool(transport is not None and getattr(transport, "connected", False))
