"""A small load client for tests: threads sending GETs, counting how each one ended.

Half of the threads keep one connection open for many requests (keep-alive), the other
half open a new connection for each request. Every request ends as one of:

- ok: a complete response with the expected status;
- refused: the connection could not be made (ECONNREFUSED, or a unix socket's ENOENT):
  nothing listened;
- failed: anything else (a connection reset or closed before the response, a timeout, a
  wrong status). A keep-alive connection that the server closed while idle is retried
  once on a new connection before its request counts as failed, as browsers and HTTP
  libraries do: a request the server never read is safe to send again.

Used by the restart-under-load tests (tests/servers/test_inherited_sockets.py) and the
runner's rolling reload; `LoadClient(...)` as a context manager runs it in the background.
"""

from __future__ import annotations

import errno
import http.client
import statistics
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

from django_prodserver.liveness.http import UnixHTTPConnection

REFUSED = frozenset({errno.ECONNREFUSED, errno.ENOENT})


def connection(address: str, timeout: float) -> http.client.HTTPConnection:
    """A connection to `127.0.0.1:PORT`, `[::1]:PORT` or `unix:/path` (not yet connected)."""
    if address.startswith("unix:"):
        return UnixHTTPConnection(address[len("unix:") :], timeout)
    host, _, port = address.rpartition(":")
    return http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)


@dataclass
class LoadResult:
    ok: int = 0
    refused: int = 0
    failed: int = 0
    # A keep-alive connection found closed, its request sent again on a new one.
    retried: int = 0
    # Among the failed: a connection opened for its request, closed before any answer.
    reset_new: int = 0
    latencies: list[float] = field(default_factory=list)
    # The first few failures, as text, to show what went wrong.
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.ok + self.refused + self.failed

    def percentile(self, fraction: float) -> float:
        """The latency (seconds) below which `fraction` of the ok requests were answered."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def summary(self) -> str:
        median = statistics.median(self.latencies) if self.latencies else 0.0
        return (
            f"ok={self.ok} failed={self.failed} (new connections reset: {self.reset_new}) "
            f"refused={self.refused} retried={self.retried} "
            f"p50={median * 1000:.1f}ms p99={self.percentile(0.99) * 1000:.1f}ms"
        )


class LoadClient:
    """`threads` threads sending GET `path` to `address` until `stop()`."""

    def __init__(
        self,
        address: str,
        path: str = "/",
        threads: int = 4,
        timeout: float = 10.0,
        expected_status: int = 200,
        pause: float = 0.0,
    ) -> None:
        self.address = address
        self.path = path
        self.timeout = timeout
        self.expected_status = expected_status
        self.pause = pause
        self.result = LoadResult()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(index % 2 == 0,), daemon=True)
            for index in range(threads)
        ]

    def start(self) -> LoadClient:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> LoadResult:
        self._stopping.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
        return self.result

    def __enter__(self) -> LoadClient:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def wait_for_ok(self, count: int, timeout: float = 30.0) -> None:
        """Wait until `count` requests were answered (the load has really started)."""
        deadline = time.monotonic() + timeout
        while self.result.ok < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def _record(self, outcome: str, latency: float = 0.0, error: str = "") -> None:
        with self._lock:
            if outcome == "ok":
                self.result.ok += 1
                self.result.latencies.append(latency)
            elif outcome == "refused":
                self.result.refused += 1
            else:
                self.result.failed += 1
            if error and len(self.result.errors) < 20:
                self.result.errors.append(error)

    def _run(self, keep_alive: bool) -> None:
        current: http.client.HTTPConnection | None = None
        while not self._stopping.is_set():
            if current is None or not keep_alive:
                current = connection(self.address, self.timeout)
            fresh = current.sock is None
            started = time.monotonic()
            outcome, error, reusable = self._request(current)
            if outcome == "stale" and not fresh:
                # The server closed this idle connection: the request was never read.
                with self._lock:
                    self.result.retried += 1
                current.close()
                current = connection(self.address, self.timeout)
                fresh = True
                started = time.monotonic()
                outcome, error, reusable = self._request(current)
            if outcome == "stale":
                outcome = "failed"
                if fresh:
                    with self._lock:
                        self.result.reset_new += 1
            self._record(outcome, time.monotonic() - started, error)
            if not (keep_alive and reusable):
                current.close()
                current = None
            if self.pause:
                time.sleep(self.pause)
        if current is not None:
            current.close()

    def _request(self, current: http.client.HTTPConnection) -> tuple[str, str, bool]:
        """How one request ended ("ok", "refused", "stale", "failed"), why, and whether the
        connection can carry another request."""
        try:
            if current.sock is None:
                current.connect()
        except OSError as error:
            current.close()
            if error.errno in REFUSED:
                return "refused", f"connect: {error!r}", False
            return "failed", f"connect: {error!r}", False
        try:
            current.request("GET", self.path, headers={"Host": "localhost"})
            response = current.getresponse()
            response.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
            # Closed before any byte of a response: the server did not process it.
            current.close()
            return "stale", f"request: {error!r}", False
        except (OSError, http.client.HTTPException) as error:
            current.close()
            return "failed", f"request: {error!r}", False
        if response.status != self.expected_status:
            return "failed", f"status {response.status}", not response.will_close
        return "ok", "", not response.will_close
