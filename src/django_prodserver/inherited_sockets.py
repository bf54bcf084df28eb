"""Listening sockets this process inherited, from systemd or from the runner.

Two ways hand a web process its sockets already bound and listening:

- systemd's socket activation: `LISTEN_FDS=n` and `LISTEN_PID` (this process's PID; the
  variables meant for another process are ignored), the sockets at fds 3 to 3+n-1, their
  names in `LISTEN_FDNAMES` (optional);
- the runner's: `DJANGO_PRODSERVER_LISTEN_FDS="7,9"`, the fd numbers themselves. The runner
  starts its children with `posix_spawn` and `pass_fds`, so it cannot name the child's PID
  in advance: hence a variable of its own.

`take_inherited_sockets` reads and removes the variables (the server and its workers must
not read them again: gunicorn reads `LISTEN_FDS` itself), and checks that each fd is a
listening stream socket. Only the standard library: the runner imports it too.
"""

from __future__ import annotations

import os
import socket
import stat
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass

SYSTEMD_FDS = "LISTEN_FDS"
SYSTEMD_PID = "LISTEN_PID"
SYSTEMD_NAMES = "LISTEN_FDNAMES"
RUNNER_FDS = "DJANGO_PRODSERVER_LISTEN_FDS"
# sd_listen_fds(3): the first inherited socket is fd 3, after standard input, output and error.
SYSTEMD_FIRST_FD = 3
VARIABLES = (SYSTEMD_FDS, SYSTEMD_PID, SYSTEMD_NAMES, RUNNER_FDS)


class InheritedSocketError(Exception):
    """An inherited fd that cannot be served on; its text names the variable, fd and fix."""


@dataclass(frozen=True)
class InheritedSocket:
    fd: int
    family: socket.AddressFamily
    # How a person reads where it listens: 127.0.0.1:8000, [::1]:8000, unix:/run/web.sock.
    address: str
    # systemd's FileDescriptorName= (LISTEN_FDNAMES); None from the runner.
    name: str | None = None

    def describe(self) -> str:
        return f"fd {self.fd}: {self.address}"


@dataclass(frozen=True)
class InheritedSockets:
    # Who passed them, as the output says it: "systemd" or "the runner".
    source: str
    # The variable that named them, for messages.
    variable: str
    sockets: tuple[InheritedSocket, ...]

    @property
    def fds(self) -> tuple[int, ...]:
        return tuple(item.fd for item in self.sockets)

    def describe(self) -> str:
        """`the socket(s) systemd passed (fd 3: 127.0.0.1:8000)`."""
        listed = ", ".join(item.describe() for item in self.sockets)
        return f"the socket(s) {self.source} passed ({listed})"

    def variables(self) -> dict[str, str]:
        """The variables that passed them, for this process's exec of itself (same PID)."""
        if self.source != "systemd":
            return {RUNNER_FDS: ",".join(map(str, self.fds))}
        variables = {SYSTEMD_FDS: str(len(self.sockets)), SYSTEMD_PID: str(os.getpid())}
        names = [item.name or "" for item in self.sockets]
        if any(names):
            variables[SYSTEMD_NAMES] = ":".join(names)
        return variables

    def passed(self) -> str:
        """`systemd passed it listening sockets (fd 3: 127.0.0.1:8000) in LISTEN_FDS`."""
        listed = ", ".join(item.describe() for item in self.sockets)
        return f"{self.source} passed it listening sockets ({listed}) in {self.variable}"


def take_inherited_sockets(
    environ: MutableMapping[str, str], pid: int | None = None
) -> InheritedSockets | None:
    """The sockets this process inherited, the variables removed from `environ`; None: none.

    Raises InheritedSocketError for a variable that is not what its sender writes, or an
    fd that is not an open listening stream socket.
    """
    pid = os.getpid() if pid is None else pid
    values = {name: environ.pop(name) for name in VARIABLES if name in environ}
    if SYSTEMD_FDS not in values:
        values.update(kept_by_twisted(pid) or initial_environment(pid))
    systemd = from_systemd(values, pid)
    runner = from_runner(values)
    if systemd is not None and runner is not None:
        raise InheritedSocketError(
            f"Both {SYSTEMD_FDS} (systemd's socket activation) and {RUNNER_FDS} (the "
            f"runner's) name sockets for this process; a process serves the sockets of one "
            f"of them. Start it from a systemd .socket unit or from the runner, not both."
        )
    return systemd or runner


def kept_by_twisted(pid: int) -> dict[str, str]:
    """systemd's variables as Twisted read them, if it removed them from the environment.

    Importing `twisted.internet.endpoints` reads LISTEN_FDS and LISTEN_PID and deletes them;
    daphne's app, in INSTALLED_APPS, imports it while Django sets up, before any command
    runs. Twisted keeps what it read: that is what systemd passed.
    """
    endpoints = sys.modules.get("twisted.internet.endpoints")
    parser = getattr(endpoints, "_SystemdParser", None)
    kept = getattr(parser, "_sddaemon", None)
    try:
        fds = list(kept.inheritedDescriptors()) if kept is not None else []
        names = list(kept.inheritedNamedDescriptors()) if kept is not None else []
    except Exception:  # another Twisted than the one read here: nothing kept
        return {}
    if not fds or fds != list(range(SYSTEMD_FIRST_FD, SYSTEMD_FIRST_FD + len(fds))):
        return {}
    kept_values = {SYSTEMD_FDS: str(len(fds)), SYSTEMD_PID: str(pid)}
    if names:
        kept_values[SYSTEMD_NAMES] = ":".join(names)
    return kept_values


def initial_environment(pid: int) -> dict[str, str]:
    """systemd's variables as this process was started with them, on Linux.

    Twisted deletes them even when it keeps nothing (systemd-socket-activate sets no
    LISTEN_FDNAMES, and Twisted then ignores the sockets); the environment this program was
    exec'd with still holds them in /proc/self/environ.
    """
    try:
        with open("/proc/self/environ", "rb") as initial:
            entries = initial.read().split(b"\0")
    except OSError:
        return {}
    wanted = (SYSTEMD_FDS, SYSTEMD_PID, SYSTEMD_NAMES)
    found = {}
    for entry in entries:
        name, _, value = os.fsdecode(entry).partition("=")
        if name in wanted:
            found[name] = value
    return found if found.get(SYSTEMD_PID, "").strip() == str(pid) else {}


def from_systemd(values: dict[str, str], pid: int) -> InheritedSockets | None:
    count_text = values.get(SYSTEMD_FDS)
    if count_text is None or values.get(SYSTEMD_PID, "").strip() != str(pid):
        return None  # meant for another process (sd_listen_fds ignores them too)
    count = count_text.strip()
    if not count.isascii() or not count.isdigit() or int(count) < 1:
        raise InheritedSocketError(
            f"{SYSTEMD_FDS}={count_text!r}: systemd sets it to the number of sockets it "
            f"passes, 1 or more. Unset it, or start the process from a .socket unit."
        )
    fds = range(SYSTEMD_FIRST_FD, SYSTEMD_FIRST_FD + int(count))
    names = values.get(SYSTEMD_NAMES, "").split(":") if values.get(SYSTEMD_NAMES) else []
    fix = (
        "systemd passes the sockets of the .socket unit that starts the service: check its "
        "ListenStream= lines and the service's Sockets=, or unset LISTEN_FDS"
    )
    sockets = tuple(
        checked_socket(fd, SYSTEMD_FDS, fix, names[index] if index < len(names) else None)
        for index, fd in enumerate(fds)
    )
    return InheritedSockets("systemd", SYSTEMD_FDS, sockets)


def from_runner(values: dict[str, str]) -> InheritedSockets | None:
    text = values.get(RUNNER_FDS)
    if text is None:
        return None
    words = [word.strip() for word in text.split(",")]
    if not text.strip() or not all(word.isascii() and word.isdigit() for word in words):
        raise InheritedSocketError(
            f"{RUNNER_FDS}={text!r}: expected the numbers of the inherited file descriptors, "
            f"separated by commas (e.g. 7,9). Unset it unless the runner sets it."
        )
    fds = list(dict.fromkeys(int(word) for word in words))
    fix = (
        f"{RUNNER_FDS} must name only sockets this process inherits, listening (the runner "
        f"passes them with pass_fds); unset it to listen on the configured address"
    )
    return InheritedSockets(
        "the runner", RUNNER_FDS, tuple(checked_socket(fd, RUNNER_FDS, fix) for fd in fds)
    )


def checked_socket(fd: int, variable: str, fix: str, name: str | None = None) -> InheritedSocket:
    """The socket at `fd`, if it is an open listening stream socket; made inheritable.

    The server may run after an exec (`python -m uvicorn`, `daphne`): the fd must survive it.
    """
    problem = socket_problem(fd)
    if problem:
        raise InheritedSocketError(f"{variable} names fd {fd}, which {problem}. Fix: {fix}.")
    # A socket object of its own (a dup): closing it leaves the inherited fd open.
    with socket.socket(fileno=os.dup(fd)) as sock:
        family = socket.AddressFamily(sock.family)
        address = shown_address(family, sock.getsockname())
    os.set_inheritable(fd, True)
    return InheritedSocket(fd, family, address, name or None)


def socket_problem(fd: int) -> str | None:
    """Why `fd` cannot be served on, in words; None: it is a listening stream socket."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return "is not open in this process"
    if not stat.S_ISSOCK(mode):
        return "is not a socket (a file or a pipe)"
    try:
        with socket.socket(fileno=os.dup(fd)) as sock:
            if sock.type != socket.SOCK_STREAM:
                return "is not a stream socket (a datagram socket cannot serve HTTP)"
            if sock.family not in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX):
                return f"is a socket of family {sock.family!r}, not TCP or a unix socket"
            if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                return "is a socket that does not listen (bound or connected, not listening)"
    except OSError as error:
        return f"cannot be read as a socket ({error.strerror or error})"
    return None


def shown_address(family: socket.AddressFamily, address: object) -> str:
    if family == socket.AF_UNIX:
        path = address.decode(errors="replace") if isinstance(address, bytes) else str(address)
        return f"unix:{path.replace(chr(0), '@', 1) if path.startswith(chr(0)) else path}"
    if isinstance(address, tuple):
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
    return str(address)
