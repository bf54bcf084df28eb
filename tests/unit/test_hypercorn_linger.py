"""The asyncio shim of serving.hypercorn_linger, on a real asyncio server."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from django_prodserver.serving.hypercorn_linger import (
    attaching_after_the_close,
    waking_waiters_once,
)


class LateTransport:
    """Stands for the transport: asyncio's server only holds it in a weak set here."""


@pytest.mark.skipif(sys.version_info < (3, 12), reason="asyncio's Server tracks clients from 3.12")
def test_a_connection_ending_after_its_closed_server_woke_its_waiters_raises_nothing(monkeypatch):
    """A connection accepted as the server closes ends after the server woke its waiters:
    asyncio then wakes them a second time (3.13.0: TypeError, 'NoneType' is not iterable)."""
    server_class: Any = asyncio.base_events.Server
    monkeypatch.setattr(server_class, "_wakeup", waking_waiters_once(server_class._wakeup))

    async def late_connection_ends() -> None:
        server: Any = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
        server.close()
        await server.wait_closed()  # woken: its waiters are gone
        server._detach(LateTransport())  # what the late connection's transport does as it ends

    asyncio.run(late_connection_ends())


def test_a_connection_accepted_as_the_server_closed_attaches_and_ends_cleanly(monkeypatch):
    """asyncio creates an accepted connection's transport in a later step than the accept:
    with the server closed meanwhile, asyncio's own `_attach` asserts it is open (and the
    connection is dropped, its client reset)."""
    server_class: Any = asyncio.base_events.Server
    monkeypatch.setattr(server_class, "_wakeup", waking_waiters_once(server_class._wakeup))
    late = LateTransport()
    # 3.12 and earlier count connections; 3.13 keeps the transports.
    arguments = (late,) if sys.version_info >= (3, 13) else ()

    async def accepted_as_it_closes() -> None:
        server: Any = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
        server.close()
        with pytest.raises(AssertionError):
            server._attach(*arguments)
        attaching_after_the_close(server_class._attach)(server, *arguments)
        assert server._sockets is None  # still closed
        server._detach(*arguments)  # the connection ends
        await server.wait_closed()

    asyncio.run(accepted_as_it_closes())
