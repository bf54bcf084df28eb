"""waitress, served inside the `manage.py` process, with the graceful stop it lacks.

The argv is the `waitress-serve` line that `--dry-run` prints, read by waitress's own
parser; the server is built by `waitress.create_server` from the same adjustments,
exactly as `waitress-serve` builds it. Two things differ, and both are the point:

- A bad option or an application that fails to load ends with a message and a
  non-zero status (`waitress-serve` prints its help and exits 0 for a bad option).
- SIGTERM and SIGINT stop the server gracefully (see `drain`): the listening sockets
  close at once (new connections are refused), each busy connection finishes the
  request it is serving and answers it with `Connection: close`, then closes. An idle
  connection is still read for a short linger: the one request it may receive is
  answered with `Connection: close`, then it closes; still idle at the end of the
  linger, it closes. After the backend's graceful timeout whatever is left is closed,
  and the process exits 0. A second signal stops at once. waitress alone has no such
  stop: its loop ends on KeyboardInterrupt and drops whatever is in flight.
"""

from __future__ import annotations

import errno
import logging
import os
import pkgutil
import signal
import socket
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.trigger import trigger

from django_prodserver.applications import check_attribute
from django_prodserver.backends.base import Plan
from django_prodserver.errors import ApplicationError, OptionError, ProdserverError
from django_prodserver.liveness.http import WarmUp
from django_prodserver.options.waitress import WaitressCommand, read_command_line
from django_prodserver.serving.linger import linger_within
from django_prodserver.serving.warmup import warm_up

# While draining, how often to look again at the connections still open.
DRAIN_POLL = 0.1
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGBREAK") if hasattr(signal, name)
)
# EADDRINUSE, and WSAEADDRINUSE on Windows.
ADDRESS_IN_USE = frozenset({errno.EADDRINUSE, 10048})

logger = logging.getLogger("waitress")


class StopRequest:
    """What the signal handlers saw: set from a handler, read by the serving loop."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.now = False  # a second signal: do not wait for the requests in flight
        self.wake: Any = None  # a waitress trigger: pulling it ends the loop's select()

    @property
    def requested(self) -> bool:
        return self.signal is not None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        # Only flags and one byte down a pipe: this runs between any two bytecodes of
        # the main thread, possibly inside waitress's loop or a logging call.
        if self.signal is not None:
            self.now = True
        else:
            self.signal = signum
        if self.wake is not None:
            self.wake.pull_trigger()


@contextmanager
def stop_signals_caught(stop: StopRequest) -> Iterator[None]:
    previous = {signum: signal.signal(signum, stop.handle) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def serve(plan: Plan, graceful_timeout: float, warmup: WarmUp | None = None) -> int | None:
    command = read_command_line(plan.argv[1:], plan.process)
    # Sockets systemd or the runner bound: waitress accepts on each, binds nothing.
    socket_groups = by_family([socket.socket(fileno=fd) for fd in plan.inherited_fds])
    if socket_groups:
        command.adjustments["sockets"] = socket_groups[0]
    stop = StopRequest()
    # Caught from the start: a SIGTERM while the application loads stops it cleanly.
    with stop_signals_caught(stop):
        application = load_application(command, plan.process)
        if warmup is not None:
            warm_up(application, warmup.path, warmup.host_header, plan.process)
        if stop.requested:
            return None
        configure_logging()
        server_map: dict[int, Any] = {}
        server = start_server(application, command, server_map, plan.process)
        for group in socket_groups[1:]:
            # The same thread pool serves every group.
            also = {**command.adjustments, "sockets": group}
            create_server(application, map=server_map, _dispatcher=server.task_dispatcher, **also)
        stop.wake = trigger(server_map)
        unix_socket = bound_socket_file(command)
        server.print_listen("Serving on http://{}:{}")
        adjustments = server.adj
        servers = [item for item in server_map.values() if isinstance(item, BaseWSGIServer)]
        use_stoppable_channels(servers)
        try:
            while not stop.requested:
                poll(server_map, adjustments, adjustments.asyncore_loop_timeout)
            drain(servers, server_map, adjustments, stop, graceful_timeout)
        finally:
            wasyncore.close_all(server_map, ignore_all=True)
            remove_socket_file(unix_socket)
    return None


def by_family(sockets: list[socket.socket]) -> list[list[socket.socket]]:
    """The TCP sockets, then the unix sockets: waitress's `sockets` takes one kind at a time
    (its Adjustments refuse a mix), and the runner may pass a unix socket with a TCP one."""
    tcp = [sock for sock in sockets if sock.family != socket.AF_UNIX]
    unix = [sock for sock in sockets if sock.family == socket.AF_UNIX]
    return [group for group in (tcp, unix) if group]


def load_application(command: WaitressCommand, process: str) -> Callable[..., Any]:
    """The WSGI application, found as `waitress-serve` finds it (`--call` included)."""
    try:
        check_attribute(command.application, process)
        application = pkgutil.resolve_name(command.application)
        if command.call:
            application = application()
    except ApplicationError:
        raise
    except Exception as error:
        raise ApplicationError(
            f"Process '{process}': the application '{command.application}' failed to load: "
            f"{error!r} (run with --traceback to see where)."
        ) from error
    if not callable(application):
        raise ApplicationError(
            f"Process '{process}': '{command.application}' is not a WSGI application "
            f"(got {type(application).__name__}). A factory that returns one needs `call`."
        )
    return application  # type: ignore[no-any-return]


def configure_logging() -> None:
    """waitress's log lines on standard error, as `waitress-serve` sets them up."""
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    logging.basicConfig()


def start_server(
    application: Callable[..., Any],
    command: WaitressCommand,
    server_map: dict[int, Any],
    process: str,
) -> Any:
    """`create_server`, with a failure to listen told in one line that names the address."""
    try:
        return create_server(application, map=server_map, **command.adjustments)
    except ValueError as error:  # read_command_line checked them; a race with the system.
        raise OptionError(f"Process '{process}': waitress rejects the options: {error}") from None
    except OSError as error:
        # Each listening socket joins the map before it is bound: the last one failed.
        made = [item for item in server_map.values() if isinstance(item, BaseWSGIServer)]
        wasyncore.close_all(server_map, ignore_all=True)
        address = failed_address(command, made[-1] if made else None)
        hint = (
            " Another process is using it: stop that one, or choose another address."
            if error.errno in ADDRESS_IN_USE
            else ""
        )
        raise ProdserverError(
            f"Process '{process}': waitress cannot listen on {address}: "
            f"{error.strerror or error}.{hint}"
        ) from None


def failed_address(command: WaitressCommand, server: Any) -> str:
    if command.adjustments.get("unix_socket"):
        return f"unix:{command.adjustments['unix_socket']}"
    if server is not None:
        return show_address(server.sockinfo[3])
    return "the configured addresses"


def show_address(sockaddr: Any) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def bound_socket_file(command: WaitressCommand) -> tuple[str, int, int] | None:
    """The unix socket file this server made, to remove it (and only it) at the end."""
    path = command.adjustments.get("unix_socket")
    if not path:
        return None
    try:
        made = os.stat(path)
    except OSError:
        return None
    return path, made.st_dev, made.st_ino


def remove_socket_file(made: tuple[str, int, int] | None) -> None:
    if made is None:
        return
    path, device, inode = made
    try:
        now = os.stat(path)
        if stat.S_ISSOCK(now.st_mode) and (now.st_dev, now.st_ino) == (device, inode):
            os.unlink(path)
    except OSError:
        pass  # gone already, or another server's by now


def poll(server_map: dict[int, Any], adjustments: Any, timeout: float) -> None:
    wasyncore.loop(timeout=timeout, map=server_map, use_poll=adjustments.asyncore_use_poll, count=1)


def use_stoppable_channels(servers: list[Any]) -> None:
    """Have each listening socket make its connections `StoppableChannel`s."""
    for server in servers:
        server.channel_class = StoppableChannel


class StoppableChannel(HTTPChannel):  # type: ignore[misc]
    """waitress's connection, which can be told to serve one last request and close.

    Once `stop_serving` is called (from the main thread, as every read is), the request
    being served, or queued for a thread, is the last: its response says
    `Connection: close` and the connection closes once it is sent. Requests pipelined
    behind it are dropped. A connection with nothing to serve (an idle keep-alive one,
    or one accepted whose request is not read yet) may still receive one request: it
    is served the same way, and the connection closes after it. The drain closes the
    ones still idle when its linger ends.
    """

    stopping = False
    # One more request may still be read: the answer to the last one may have begun
    # before the stop (so without `Connection: close`), or nothing was served yet.
    may_receive = False

    def stop_serving(self) -> None:
        this: Any = self  # waitress's attributes are untyped
        with this.requests_lock:
            this.stopping = True
            this.may_receive = True
            for request in this.requests[1:]:
                request.close()
            del this.requests[1:]
            if this.requests:
                last_request(this.requests[0])
                if this.request is not None:  # pipelined behind the last one
                    this.request.close()
                    this.request = None

    def received(self, data: bytes) -> bool:
        if not self.stopping:
            return bool(super().received(data))
        this: Any = self
        with this.requests_lock:
            if not (this.may_receive and data) or this.will_close or this.close_when_flushed:
                return False
            if this.request is None:
                this.request = this.parser_class(this.adj)
            this.request.received(data)  # what follows the request is dropped
            if not this.request.completed:
                return True
            request, this.request, this.may_receive = this.request, None, False
            if request.empty:
                this.will_close = True
                return True
            last_request(request)
            this.requests.append(request)
            if len(this.requests) == 1:  # otherwise the thread serving one starts it next
                this.server.add_task(this)
        return True

    @property
    def idle(self) -> bool:
        """Nothing to serve, answer or finish receiving: it can close now."""
        return not (self.requests or self.total_outbufs_len or self.request is not None)


def last_request(request: Any) -> None:
    """Answer `request` with `Connection: close`: waitress then closes after its response.

    waitress decides from the request's own header, when the response's headers are
    built (a response already begun is closed by the drain once it is sent).
    """
    request.headers["CONNECTION"] = "close"


def drain(
    servers: list[Any],
    server_map: dict[int, Any],
    adjustments: Any,
    stop: StopRequest,
    graceful_timeout: float,
) -> None:
    """Stop accepting; finish the requests in flight within the bound.

    Every connection finishes the request it serves, answers it with `Connection: close`
    and closes. For the linger, a connection with nothing to do is still read: a request
    it receives is served the same way (see serving.linger). At the end of the linger the
    connections still idle close; at the bound (or on a second signal) whatever is left
    is closed and the requests still queued are dropped.
    """
    started = time.monotonic()
    deadline = started + graceful_timeout
    linger_ends = started + linger_within(graceful_timeout)
    for server in servers:
        stop_accepting(server)
    in_flight = 0
    for channel in connections(servers):
        channel.stop_serving()
        in_flight += not channel.idle
    name = signal.Signals(stop.signal).name if stop.signal else "a stop signal"
    if in_flight:
        logger.info(
            "%s: no longer accepting connections; waiting up to %g s for %d request(s) in flight.",
            name,
            graceful_timeout,
            in_flight,
        )
    else:
        logger.info("%s: no longer accepting connections; no request in flight.", name)
    while open_connections(servers):
        if stop.now or time.monotonic() >= deadline:
            logger.warning(
                "Stopping with %d request(s) still in flight (%s).",
                sum(not channel.idle for channel in connections(servers)),
                "second signal" if stop.now else f"not done after {graceful_timeout:g} s",
            )
            break
        close_idle_connections(servers, lingering=time.monotonic() < linger_ends)
        poll(server_map, adjustments, DRAIN_POLL)
    if servers:
        # The threads are idle now (or past the bound): they leave at once, and the
        # tasks still queued are dropped: nothing is served after the drain.
        servers[0].task_dispatcher.shutdown(timeout=0 if open_connections(servers) else 5)
    logger.info("Stopped.")


def stop_accepting(server: Any) -> None:
    """Close a listening socket, leaving its trigger open for the requests in flight."""
    server.accepting = False
    server.del_channel()
    if server.socket is not None:
        server.socket.close()
        server.socket = None


def connections(servers: list[Any]) -> list[Any]:
    return [channel for server in servers for channel in list(server.active_channels.values())]


def close_idle_connections(servers: list[Any], lingering: bool = False) -> None:
    """Close, on the loop's next turn, the connections with nothing left to do.

    While `lingering`, those that may still receive a request stay open. One whose last
    response began before the stop (so without `Connection: close`) is such a one once
    that response is sent.
    """
    for channel in connections(servers):
        if lingering and channel.may_receive:
            continue
        if channel.idle and not channel.will_close:
            channel.will_close = True  # waitress closes it on its next turn
            channel.server.pull_trigger()


def open_connections(servers: list[Any]) -> int:
    return sum(len(server.active_channels) for server in servers)
