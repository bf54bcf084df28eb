"""granian's graceful stop, with a drain before it: a reload beside it drops no request.

On a stop, granian's main process sends each worker SIGTERM, and the worker's Rust core
asks each connection to shut down: an idle kept-alive connection is closed at once, so a
request its client sends at that moment is lost (the client sees the connection close
without an answer). Under load that is one failed request per kept-alive connection.

Here a worker's SIGTERM first drains it, until it has no connection left or for at most
`LINGER` seconds (within `workers-kill-timeout`):
- every response it sends says `Connection: close`, so each busy kept-alive connection
  ends cleanly after its next response, and its client reconnects elsewhere;
- the worker stops listening: once granian has accepted what is queued on its listening
  socket (closing it would reset those), the socket is swapped for one that never receives
  a connection, so new connections go to the server beside it (a rolling reload starts
  the new granian on the same port with SO_REUSEPORT) or are refused;
then granian's own stop runs: requests still in progress finish, and a connection that
sent nothing during the drain is closed.

Further SIGTERMs and SIGINTs during the drain change nothing (systemd and a terminal's
Ctrl-C signal the workers as well as granian's main process, which then signals them
again). It covers granian's process workers (`MPServer`) serving ASGI or WSGI, each part
only where granian has what it relies on; elsewhere the stop is granian's own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from django_prodserver.serving.linger import CLOSE_HEADER, linger_within

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# granian's interfaces that this wraps (RSGI is not Django's).
INTERFACES = ("asgi", "asginl", "wsgi")
# The attributes of granian's server that the drain is built from.
SERVER_ATTRIBUTES = ("target", "working_dir", "factory", "interface", "workers_kill_timeout")
OPEN_FDS = "/dev/fd"
# How often a draining worker looks whether its connections have all closed.
POLL = 0.05
# How long it waits for granian to accept what is queued on its listening socket.
QUEUE_WAIT = 0.5
QUEUE_POLL = 0.0005
# The interpreter's switch interval from that look to the swap.
HOLD = 1.0
TCP_INFO = getattr(socket, "TCP_INFO", 0)  # Linux only
TCP_INFO_SIZE = 104
TCPI_UNACKED = 24  # after eight one-byte fields and four 32-bit ones


class Drain:
    """One worker's drain: begun by its first stop signal, granian's stop at its end."""

    def __init__(self) -> None:
        self.begun = False

    def begin(self, listening: Listening, linger: float, stop: Callable[[], None]) -> None:
        if self.begun:
            return
        self.begun = True
        # A thread: the signal handler runs on granian's event loop (ASGI), which must not wait.
        draining = threading.Thread(target=drain_then_stop, args=(listening, linger, stop))
        draining.daemon = True
        draining.start()


def drain_then_stop(listening: Listening, linger: float, stop: Callable[[], None]) -> None:
    """Stop listening; `stop()` once no connection is left, or `linger` seconds from now."""
    deadline = time.monotonic() + linger
    stop_listening(listening)
    while time.monotonic() < deadline and any(connected_on(fd, listening) for fd in open_fds()):
        time.sleep(POLL)
    stop()


DRAIN = Drain()


@dataclass(frozen=True)
class Listening:
    """The address a worker listens on: a TCP port, or a unix socket's path."""

    port: int | None
    path: str | None

    def is_listener(self, sock: socket.socket) -> bool:
        return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)) and self.is_at(sock)

    def is_connection(self, sock: socket.socket) -> bool:
        """A connection this worker accepted (its local address is the one it listens on)."""
        if sock.type != socket.SOCK_STREAM or not self.is_at(sock):
            return False
        sock.getpeername()  # OSError for a socket only bound (granian keeps one), not connected
        return True

    def is_at(self, sock: socket.socket) -> bool:
        if sock.family == socket.AF_UNIX:
            return self.path is not None and sock.getsockname() == self.path
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            return self.path is None and sock.getsockname()[1] == self.port
        return False


def use_in_workers() -> None:
    """Make granian's process workers load the project's application through `load`."""
    try:
        from granian.server.mp import MPServer
    except ImportError:
        return
    serve = MPServer.serve

    def serve_with_drain(
        self: Any,
        spawn_target: Any = None,
        target_loader: Any = None,
        wrap_loader: bool = True,
    ) -> Any:
        if spawn_target is None and target_loader is None and drains(self):
            target_loader, wrap_loader = loader(self), False
        return serve(self, spawn_target, target_loader, wrap_loader)

    MPServer.serve = serve_with_drain  # type: ignore[method-assign]


def drains(server: Any) -> bool:
    if not all(hasattr(server, name) for name in SERVER_ATTRIBUTES):
        return False
    return interface_of(server) in INTERFACES


def interface_of(server: Any) -> str:
    return str(getattr(server.interface, "value", server.interface))


def loader(server: Any) -> Callable[[], Any]:
    """What a worker calls to load the application (picklable, for spawned workers)."""
    uds = getattr(server, "bind_uds", None)
    return partial(
        load,
        server.target,
        server.working_dir,
        server.factory,
        interface_of(server),
        Listening(getattr(server, "bind_port", None), str(uds) if uds else None),
        linger_within(server.workers_kill_timeout),
    )


def load(
    target: str,
    working_dir: Any,
    factory: bool,
    interface: str,
    listening: Listening,
    linger: float,
) -> Any:
    """In a worker: the application, its responses closing once the drain has begun."""
    from granian import _signals
    from granian._internal import load_target

    application = load_target(target, wd=working_dir, factory=factory)
    for name in ("set_sync_signals", "set_loop_signals"):
        if callable(getattr(_signals, name, None)):
            setattr(_signals, name, draining_first(getattr(_signals, name), listening, linger))
    if interface == "wsgi":
        return closing_wsgi(application)
    return closing_asgi(application)


def draining_first(
    set_signals: Callable[..., Any], listening: Listening, linger: float
) -> Callable[..., Any]:
    """granian's worker signal set-up, with its stop signals beginning the drain instead."""

    def set_signals_draining_first(*args: Any) -> Any:
        event = set_signals(*args)
        begin = partial(DRAIN.begin, listening, linger, event.set)
        loop = args[0] if args else None  # set_loop_signals(loop); set_sync_signals()
        if loop is None or not handled_on(loop, begin):
            handle_in_a_thread(begin)
        return event

    return set_signals_draining_first


def handled_on(loop: Any, handler: Callable[[], None]) -> bool:
    """Run `handler` on the stop signals on granian's event loop, as granian does."""
    try:
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, handler)
    except NotImplementedError:
        return False
    return True


def handle_in_a_thread(handler: Callable[[], None]) -> None:
    """Run `handler` on the stop signals, in a thread that waits for them.

    granian's WSGI worker waits on a lock in its main thread, where Python runs signal
    handlers; a signal the kernel delivers to another of its threads does not wake that
    wait, and the handler would never run. The stop signals are blocked in the main thread
    (and so in the threads granian starts next) and taken by this thread whichever thread
    they were sent to; a thread started earlier may still get one, hence the handler too.
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, lambda *_: handler())
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    waiter = threading.Thread(target=wait_for_stop_signals, args=(handler,), daemon=True)
    waiter.start()


def wait_for_stop_signals(handler: Callable[[], None]) -> None:
    while True:
        signal.sigwait(STOP_SIGNALS)
        handler()


def stop_listening(listening: Listening) -> None:
    """Swap this process's socket listening on `listening` for one that never receives a
    connection. Closing it instead would leave granian's accept loop woken by an error that
    it retries at once; the swap closes the real socket all the same, which leaves the port.
    """
    for fd in open_fds():
        if is_socket(fd, listening.is_listener):
            with adopted(fd) as listener:
                if listener is not None:
                    swap_once_all_accepted(listener, fd)


def swap_once_all_accepted(listener: socket.socket, fd: int) -> None:
    """Swap `listener` at `fd` once granian has accepted every connection queued on it
    (waiting at most QUEUE_WAIT).

    Closing a listening socket resets the connections in its queue, unless the kernel
    moves them to another socket on the port (Linux's `net.ipv4.tcp_migrate_req`). From
    the look at the queue to the swap the interpreter's switch interval is long, so that
    another Python thread of the worker (a WSGI request) hardly ever runs in between.
    """
    never = never_connected()
    deadline = time.monotonic() + QUEUE_WAIT
    switching = sys.getswitchinterval()
    try:
        while True:
            sys.setswitchinterval(HOLD)
            if not queued(listener) or time.monotonic() > deadline:
                os.dup2(never.fileno(), fd, inheritable=False)
                return
            sys.setswitchinterval(switching)
            time.sleep(QUEUE_POLL)
    finally:
        sys.setswitchinterval(switching)
        never.close()


def queued(listener: socket.socket) -> int:
    """Connections waiting in a TCP listening socket's accept queue (0: unknown)."""
    if listener.family not in (socket.AF_INET, socket.AF_INET6) or not TCP_INFO:
        return 0
    info = listener.getsockopt(socket.IPPROTO_TCP, TCP_INFO, TCP_INFO_SIZE)
    # Linux's tcp_info of a listening socket holds its queue's length in `tcpi_unacked`.
    return int.from_bytes(info[TCPI_UNACKED : TCPI_UNACKED + 4], sys.byteorder)


def connected_on(fd: int, listening: Listening) -> bool:
    return is_socket(fd, listening.is_connection)


def is_socket(fd: int, what: Callable[[socket.socket], bool]) -> bool:
    """Whether `fd` is a socket that is `what`."""
    with adopted(fd) as sock:
        if sock is not None and what(sock):
            return True
    return False


@contextlib.contextmanager
def adopted(fd: int) -> Iterator[socket.socket | None]:
    """`fd` as a socket (None: it is not one, or no longer open); the fd stays granian's.

    A socket that closes meanwhile (granian's threads run on) is None as well.
    """
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        yield None
        return
    try:
        yield sock
    except OSError:
        pass
    finally:
        sock.detach()


def never_connected() -> socket.socket:
    """A non-blocking listening socket no one connects to: accept() on it finds nothing."""
    never = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    never.bind(b"")  # an address of the kernel's choosing, in no directory
    never.listen(1)
    never.setblocking(False)
    return never


def open_fds() -> Iterable[int]:
    try:
        return sorted(int(name) for name in os.listdir(OPEN_FDS))
    except OSError:
        return ()


def with_close(headers: Iterable[Any], name: Any) -> list[Any]:
    """`headers` (pairs), any Connection header replaced by `Connection: close`."""
    lowered = name.lower()
    kept = [pair for pair in headers if pair[0].lower() != lowered]
    return [*kept, (name, CLOSE_HEADER[1] if isinstance(name, bytes) else "close")]


def closing_wsgi(application: Callable[..., Any]) -> Callable[..., Any]:
    def application_closing_when_draining(environ: Any, start_response: Any) -> Any:
        def start(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            if DRAIN.begun:
                headers = with_close(headers, "Connection")
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        return application(environ, start)

    return application_closing_when_draining


def closing_asgi(application: Callable[..., Any]) -> Callable[..., Any]:
    async def application_closing_when_draining(scope: Any, receive: Any, send: Any) -> Any:
        if scope.get("type") != "http":
            return await application(scope, receive, send)

        async def sending(message: Any) -> None:
            if DRAIN.begun and message.get("type") == "http.response.start":
                headers = with_close(message.get("headers", ()), CLOSE_HEADER[0])
                message = {**message, "headers": headers}
            await send(message)

        return await application(scope, receive, sending)

    return application_closing_when_draining
