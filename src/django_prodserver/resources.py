"""What a process asks for and may use of a machine, as the `RESOURCES` key declares it.

`RESOURCES` is a dict beside `BACKEND`: `CPU` and `MEMORY` (what the process is
guaranteed: Kubernetes' requests, which place it on a node), `CPU_LIMIT` and
`MEMORY_LIMIT` (what it may take at most: its limits; past its memory limit a process is
killed). CPU is in cores (`0.5`, `2`) or millicores (`"250m"`); memory in bytes or with
a unit (`"512Mi"`, `"1Gi"`, `"500M"`). `None` leaves one out. The defaults (docs/
deploy-kubernetes.md says why) fit a Django process with a few workers: each key given
replaces its own default only, and a default limit below a request given is raised to it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django_prodserver.bounds import shown
from django_prodserver.suggestions import did_you_mean

RESOURCE_KEYS = ("CPU", "MEMORY", "CPU_LIMIT", "MEMORY_LIMIT")
# Measured on the engine tests (podman stats): the example's gunicorn with two workers
# holds 47 MiB, its Celery worker with one child 77 MiB. Requests: a quarter of a core and
# 256 MiB, room for a few more workers; limits: one core, and 512 MiB, twice the request,
# for the peaks of a request or a task, before a leak takes the node's memory.
DEFAULT_CPU = "250m"
DEFAULT_MEMORY = "256Mi"
DEFAULT_CPU_LIMIT = "1"
DEFAULT_MEMORY_LIMIT = "512Mi"
EXAMPLE = '"RESOURCES": {"CPU": "500m", "MEMORY": "512Mi", "MEMORY_LIMIT": "1Gi"}'

CPU = re.compile(r"(?P<number>[0-9]{1,7}(?:\.[0-9]{1,3})?)(?P<milli>m?)")
MEMORY = re.compile(r"(?P<number>[0-9]{1,16})(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?")
MEMORY_UNITS = {
    "": 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
# A millicore is the smallest CPU Kubernetes accounts; 1024 cores, the largest machines.
MIN_MILLICORES = 1
MAX_MILLICORES = 1024 * 1000
# Less than 4 MiB starts no Python; 64 TiB is more than any machine has.
MIN_MEMORY = 4 * 2**20
MAX_MEMORY = 64 * 2**40


@dataclass(frozen=True)
class Resources:
    """Requests and limits, as Kubernetes quantities; None: left out."""

    cpu: str | None = DEFAULT_CPU
    memory: str | None = DEFAULT_MEMORY
    cpu_limit: str | None = DEFAULT_CPU_LIMIT
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT

    @property
    def requests(self) -> dict[str, str]:
        return {
            name: value for name, value in (("cpu", self.cpu), ("memory", self.memory)) if value
        }

    @property
    def limits(self) -> dict[str, str]:
        given = (("cpu", self.cpu_limit), ("memory", self.memory_limit))
        return {name: value for name, value in given if value}


def read_resources(value: object) -> tuple[Resources, list[str]]:
    """`RESOURCES` as `Resources`, and every problem with it (all of them, at once)."""
    if value is None:
        return Resources(), []
    if not isinstance(value, Mapping):
        return Resources(), [f"RESOURCES must be a dict, got {shown(value)}"]
    problems = []
    for key in value:
        if key not in RESOURCE_KEYS:
            suggestion = (
                did_you_mean(key, RESOURCE_KEYS, quote=chr(39)) if isinstance(key, str) else ""
            )
            problems.append(
                f"RESOURCES has an unknown key {shown(key)}{suggestion} "
                f"(it takes {', '.join(RESOURCE_KEYS)})"
            )
    defaults = Resources()
    quantities: dict[str, tuple[str, int] | None] = {}
    for key, read in (
        ("CPU", cpu),
        ("MEMORY", memory),
        ("CPU_LIMIT", cpu),
        ("MEMORY_LIMIT", memory),
    ):
        given = value.get(key, getattr(defaults, key.lower()))
        try:
            quantities[key] = None if given is None else read(given)
        except ValueError as error:
            problems.append(f"RESOURCES[{key!r}] {error}")
    for request, limit in (("CPU", "CPU_LIMIT"), ("MEMORY", "MEMORY_LIMIT")):
        asked, most = quantities.get(request), quantities.get(limit)
        if not (asked and most and asked[1] > most[1]):
            continue
        if limit in value:
            problems.append(
                f"RESOURCES[{request!r}] ({asked[0]}) is more than RESOURCES[{limit!r}] "
                f"({most[0]}): a process cannot be guaranteed more than it may use"
            )
        else:  # the default limit, below what the process asks for: raised to it
            quantities[limit] = asked
    if problems:
        return Resources(), problems
    text = {key: quantity[0] if quantity else None for key, quantity in quantities.items()}
    return Resources(text["CPU"], text["MEMORY"], text["CPU_LIMIT"], text["MEMORY_LIMIT"]), []


def cpu(value: object) -> tuple[str, int]:
    """A CPU quantity as Kubernetes writes it, and its millicores."""
    text = quantity_text(value, "cores or millicores such as 0.5, 2 or '250m'")
    match = CPU.fullmatch(text)
    if match is None:
        raise ValueError(
            f"must be cores or millicores such as 0.5, 2 or '250m', got {shown(value)}"
        )
    number = Decimal(match["number"])
    millicores = number if match["milli"] else number * 1000
    if millicores != int(millicores) or not MIN_MILLICORES <= millicores <= MAX_MILLICORES:
        raise ValueError(
            f"must be a whole number of millicores from 1m to {MAX_MILLICORES // 1000} cores, "
            f"got {shown(value)}"
        )
    return text, int(millicores)


def memory(value: object) -> tuple[str, int]:
    """A memory quantity as Kubernetes writes it, and its bytes."""
    text = quantity_text(value, "bytes, or a number with a unit such as '512Mi' or '1Gi'")
    match = MEMORY.fullmatch(text)
    if match is None:
        raise ValueError(
            f"must be bytes, or a number with a unit (Ki, Mi, Gi, Ti, k, M, G, T) such as "
            f"'512Mi', got {shown(value)}"
        )
    size = int(match["number"]) * MEMORY_UNITS[match["unit"] or ""]
    if not MIN_MEMORY <= size <= MAX_MEMORY:
        raise ValueError(f"must be from 4Mi to 64Ti, got {shown(value)}")
    return text, size


def quantity_text(value: object, expected: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"must be {expected}, got {shown(value)}")
    if isinstance(value, int) and value.bit_length() > 64:
        raise ValueError(f"must be {expected}, got {shown(value)}")
    if isinstance(value, float):
        # Written as Kubernetes reads it: 0.5, not 5e-01; NaN and infinities match nothing.
        return format(value, "f").rstrip("0").rstrip(".") if value == value else "nan"
    return str(value)
