"""A web process's HTTP health check, as the `HEALTH` key of its definition declares it.

`HEALTH` is a dict beside `BACKEND`: `PATH` (default `/`), `STATUS` (the status a healthy
process answers, default 200), `HOST` (the `Host` header, so that `ALLOWED_HOSTS` lets the
check in; default: see `liveness/http.py`), `TIMEOUT` (seconds, default 5) and `WARMUP`
(serve one request to `PATH` inside the process before it accepts connections).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from django_prodserver.bounds import shown
from django_prodserver.suggestions import did_you_mean

HEALTH_KEYS = ("PATH", "STATUS", "HOST", "TIMEOUT", "WARMUP")
DEFAULT_PATH = "/"
DEFAULT_STATUS = 200
DEFAULT_TIMEOUT = 5.0
# An hour: a health check that waits longer than that has failed.
MAX_TIMEOUT = 3600
EXAMPLE = '"HEALTH": {"PATH": "/healthz", "STATUS": 200, "HOST": "example.com"}'


@dataclass(frozen=True)
class HealthCheck:
    """What a healthy web process answers, and whether it warms up before it listens."""

    path: str = DEFAULT_PATH
    status: int = DEFAULT_STATUS
    # None: the first concrete entry of ALLOWED_HOSTS, else the address checked.
    host: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    warmup: bool = False


def read_health(value: object) -> tuple[HealthCheck, list[str]]:
    """`HEALTH` as a `HealthCheck`, and every problem with it (all of them, at once)."""
    if value is None:
        return HealthCheck(), []
    if not isinstance(value, Mapping):
        return HealthCheck(), [f"HEALTH must be a dict, got {shown(value)}"]
    problems = []
    for key in value:
        if key not in HEALTH_KEYS:
            problems.append(
                f"HEALTH has an unknown key {shown(key)}"
                f"{did_you_mean(key, HEALTH_KEYS, quote=chr(39)) if isinstance(key, str) else ''} "
                f"(it takes {', '.join(HEALTH_KEYS)})"
            )
    path = value.get("PATH", DEFAULT_PATH)
    if not isinstance(path, str) or not path.startswith("/") or any(c in path for c in " \r\n"):
        problems.append(f"HEALTH['PATH'] must be a URL path starting with '/', got {shown(path)}")
    status = value.get("STATUS", DEFAULT_STATUS)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        problems.append(
            f"HEALTH['STATUS'] must be an HTTP status (100 to 599), got {shown(status)}"
        )
    host = value.get("HOST")
    if host is not None and (
        not isinstance(host, str) or not host or any(c in host for c in " /\r\n")
    ):
        problems.append(
            f"HEALTH['HOST'] must be a host name such as 'example.com', got {shown(host)}"
        )
    timeout = value.get("TIMEOUT", DEFAULT_TIMEOUT)
    number = isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
    # Compared before float() converts it: float(10**400) overflows.
    if not number or not 0 < timeout <= MAX_TIMEOUT or not math.isfinite(timeout):
        problems.append(
            f"HEALTH['TIMEOUT'] must be a number of seconds above 0 and at most {MAX_TIMEOUT}, "
            f"got {shown(timeout)}"
        )
    warmup = value.get("WARMUP", False)
    if not isinstance(warmup, bool):
        problems.append(f"HEALTH['WARMUP'] must be True or False, got {shown(warmup)}")
    if problems:
        return HealthCheck(), problems
    return HealthCheck(str(path), int(status), host, float(timeout), bool(warmup)), []
