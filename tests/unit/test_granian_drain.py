"""The pieces of granian's drain (serving/granian_drain.py) on real sockets, in this process.

The drain itself, in granian's workers, is tested in tests/servers/test_granian.py and by
the runner's reload under load (tests/runner/test_reload.py)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from django_prodserver.serving import granian_drain
from django_prodserver.serving.granian_drain import (
    Listening,
    closing_asgi,
    closing_wsgi,
    connected_on,
    queued,
    stop_listening,
)


@pytest.fixture
def draining() -> Iterator[None]:
    granian_drain.DRAIN.begun = True
    try:
        yield
    finally:
        granian_drain.DRAIN.begun = False


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def test_queued_counts_the_connections_no_one_accepted_yet(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    time.sleep(0.05)
    assert queued(listener) == 3
    accepted, _ = listener.accept()
    assert queued(listener) == 2
    for each in [*clients, accepted]:
        each.close()


def test_stop_listening_closes_the_port_and_leaves_a_socket_that_accepts_nothing(
    listener: socket.socket,
) -> None:
    port = listener.getsockname()[1]
    stop_listening(Listening(port, None))

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    # The fd number granian holds is still a listening socket, which never has a connection.
    assert listener.family == socket.AF_INET  # the object's idea; the fd is now another
    swapped = socket.socket(fileno=listener.fileno())
    try:
        assert swapped.family == socket.AF_UNIX
        assert swapped.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
        with pytest.raises(BlockingIOError):
            swapped.accept()
    finally:
        swapped.detach()


def test_another_port_is_left_listening(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    stop_listening(Listening(port + 1 if port < 65535 else port - 1, None))
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass


def test_connected_on_sees_accepted_connections_only(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    listening = Listening(port, None)
    assert not connected_on(listener.fileno(), listening)
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    assert connected_on(accepted.fileno(), listening)
    assert not connected_on(client.fileno(), listening)  # its local port is another
    client.close()
    accepted.close()


def wsgi_app(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("connection", "keep-alive")])
    return [b"ok"]


def wsgi_headers() -> list[tuple[str, str]]:
    seen: list[list[tuple[str, str]]] = []
    closing_wsgi(wsgi_app)({}, lambda status, headers: seen.append(headers))
    return seen[0]


def test_wsgi_responses_are_unchanged_until_the_drain() -> None:
    assert wsgi_headers() == [("Content-Type", "text/plain"), ("connection", "keep-alive")]


def test_wsgi_responses_say_connection_close_once_draining(draining: None) -> None:
    assert wsgi_headers() == [("Content-Type", "text/plain"), ("Connection", "close")]


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x", b"1")]})
    await send({"type": "http.response.body", "body": b"ok"})


def asgi_messages() -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(closing_asgi(asgi_app)({"type": "http"}, None, send))
    return sent


def test_asgi_responses_are_unchanged_until_the_drain() -> None:
    assert asgi_messages()[0]["headers"] == [(b"x", b"1")]


def test_asgi_responses_say_connection_close_once_draining(draining: None) -> None:
    start, body = asgi_messages()
    assert start["headers"] == [(b"x", b"1"), (b"connection", b"close")]
    assert body == {"type": "http.response.body", "body": b"ok"}
