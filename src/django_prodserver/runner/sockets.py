"""The listening sockets the runner holds for its web processes, and how a child is told of them.

A server that takes a socket (see `ServerBackend.takes_sockets`) does not bind its address
under the runner: the runner binds it once, before its first child starts, and every run
of the process (a restart after a crash, the new child of a reload) serves on that same
socket. Connections that arrive while no child accepts wait in the socket's backlog.

Only the standard library: the supervisor imports this, and binds here the private
loopback socket on which it checks a reloading process's health.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import tempfile
from collections.abc import Sequence

from django_prodserver.inherited_sockets import RUNNER_FDS

# The variable that tells a child the descriptors to serve on, comma-separated.
LISTEN_FDS = RUNNER_FDS
# When the server's own options set none: the backlog gunicorn, uvicorn and daphne use.
DEFAULT_BACKLOG = 2048
LOOPBACK = "127.0.0.1"


class ListenError(OSError):
    """An address the runner cannot listen on; its text says which and why."""


def bind_tcp(host: str, port: int, backlog: int) -> socket.socket:
    """A listening TCP socket on `host:port`, as the servers bind one (SO_REUSEADDR).

    `host` empty or `0.0.0.0`: every IPv4 interface; `::` (or any IPv6 text): IPv6, which
    on Linux takes IPv4 too, as the servers' own `[::]` does.
    """
    bare = host.strip("[]")
    if ":" in bare:
        family = socket.AF_INET6
        where: tuple[str, int] = (bare, port)
    elif bare in ("", "*"):
        family, where = socket.AF_INET, ("0.0.0.0", port)
    else:
        found = socket.getaddrinfo(bare, port, socket.AF_UNSPEC, socket.SOCK_STREAM)
        ipv4 = [entry for entry in found if entry[0] == socket.AF_INET]
        family, _, _, _, address = (ipv4 or found)[0]
        where = (str(address[0]), int(address[1]))
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(where)
        listener.listen(backlog)
    except BaseException:
        listener.close()
        raise
    return listener


def bind_unix(path: str, backlog: int, mode: int | None, umask: int | None) -> socket.socket:
    """A listening unix socket at `path`; a stale socket file left there is removed first,
    one that a process still listens on is an error (as the servers do)."""
    remove_stale_socket(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(umask) if umask is not None else None
    try:
        listener.bind(path)
        if mode is not None:
            os.chmod(path, mode)
        listener.listen(backlog)
    except BaseException:
        listener.close()
        raise
    finally:
        if previous is not None:
            os.umask(previous)
    return listener


def remove_stale_socket(path: str) -> None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise ListenError(errno.EEXIST, f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)  # nobody listens: left by a process that died
        return
    finally:
        probe.close()
    raise ListenError(errno.EADDRINUSE, f"a process listens on {path}")


def bind_private(unix: bool) -> socket.socket:
    """A socket for the runner's health check of a new child: a free loopback port, or for
    a server on a unix socket (waitress takes no TCP socket beside a unix one) a unix
    socket in a folder of its own, which `close_private()` removes."""
    if not unix:
        return bind_tcp(LOOPBACK, 0, 16)
    folder = tempfile.mkdtemp(prefix="prodserver-reload-")
    try:
        return bind_unix(os.path.join(folder, "check.sock"), 16, None, None)
    except BaseException:
        os.rmdir(folder)
        raise


def private_address(private: socket.socket) -> tuple[str, int]:
    """Where the check connects: `(host, port)`, or `(path, 0)` for a unix socket."""
    address = private.getsockname()
    if private.family == socket.AF_UNIX:
        return str(address), 0
    return str(address[0]), int(address[1])


def close_private(private: socket.socket) -> None:
    unix = private.family == socket.AF_UNIX
    path = str(private.getsockname()) if unix else ""
    with contextlib.suppress(OSError):
        private.close()
    if unix:
        with contextlib.suppress(OSError):
            os.unlink(path)
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(path))


def listen_fds_value(fds: Sequence[int]) -> str:
    return ",".join(str(fd) for fd in fds)


def close_all(fds: Sequence[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
