"""The runner's HEALTH check of a new child: one HTTP GET, driven by the runner's loop.

The loop never waits on the probe: its socket is non-blocking, and `select` says when it
can send or read. The HTTP is the little that a check needs (HTTP/1.0, `Connection:
close`, read until the server closes, the status of the first line), so that the
supervisor, which runs without Django and stays small, loads nothing for it
(liveness/http.py is the full check `prodserver --probe` runs, with Django's settings).

A connection to the runner's private socket is accepted by the kernel at once and waits
in its backlog until the new child accepts it: one probe waits for the child to be ready.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import socket

# Enough for a status line and headers; the rest of a large answer is not needed.
LONGEST_ANSWER = 65536
# Errors that mean the answer will never come on this connection: try another.
CONNECT_PENDING = (errno.EINPROGRESS, errno.EWOULDBLOCK, 0)


class ProbeAnswer:
    """How a probe ended: `status` (None when no answer came) and what was seen."""

    def __init__(self, status: int | None, seen: str) -> None:
        self.status = status
        self.seen = seen


class HttpProbe:
    """One GET of `path` to `host:port` (port 0: `host` is a unix socket's path), with
    `host_header` as its Host."""

    def __init__(self, host: str, port: int, path: str, host_header: str) -> None:
        where: str | tuple[str, int] = host
        if port == 0:
            family, self.url = socket.AF_UNIX, f"http+unix://{host}{path}"
        else:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            where = (host, port)
            self.url = f"http://{f'[{host}]' if ':' in host else host}:{port}{path}"
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setblocking(False)
        self.request = (
            f"GET {path} HTTP/1.0\r\nHost: {host_header}\r\nConnection: close\r\n"
            f"User-Agent: prodserver-reload\r\n\r\n"
        ).encode()
        self.received = b""
        self.answer: ProbeAnswer | None = None
        code = self.socket.connect_ex(where)
        if code not in CONNECT_PENDING:
            self._end(None, f"no answer from {self.url} ({errno.errorcode.get(code, code)})")

    def fileno(self) -> int:
        return self.socket.fileno()

    @property
    def events(self) -> int:
        return selectors.EVENT_WRITE if self.request else selectors.EVENT_READ

    def step(self) -> None:
        """Send or read what the socket takes now; `answer` is set once it has ended."""
        try:
            if self.request:
                sent = self.socket.send(self.request)
                self.request = self.request[sent:]
                return
            data = self.socket.recv(LONGEST_ANSWER)
        except BlockingIOError:
            return
        except OSError as error:
            self._end(None, f"no answer from {self.url} ({error.strerror or error})")
            return
        self.received += data
        if data and len(self.received) < LONGEST_ANSWER:
            return
        self._end(*read_status(self.received, self.url))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.close()

    def _end(self, status: int | None, seen: str) -> None:
        self.answer = ProbeAnswer(status, seen)
        self.close()


def read_status(received: bytes, url: str) -> tuple[int | None, str]:
    first = received.split(b"\r\n", 1)[0].decode("latin-1")
    parts = first.split()
    if len(parts) >= 2 and parts[0].startswith("HTTP/") and parts[1].isdigit():
        return int(parts[1]), f"GET {url} answered {parts[1]}"
    if not received:
        return None, f"{url} closed the connection without an answer"
    return None, f"{url} answered something that is not HTTP: {first[:80]!r}"
