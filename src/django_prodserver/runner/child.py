"""One process of the runner: its settings, what the runner starts for it, and its state
across restarts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django_prodserver.processes import ProcessSpec
from django_prodserver.runner.backoff import Backoff


@dataclass
class Child:
    """A process of the runner across its runs.

    `spec` holds what the runner reads of its settings (its name, RESTART, STOP_SIGNAL and
    STOP_TIMEOUT); `argv` and `env` are what the runner starts for it, the whole command
    line and environment. `pid` is its main process while it runs. `pgid` is the process
    group of the last run while the runner still waits for what is left of it (stopping).
    `start_at` is when it is due to start (again), None when it is not to start.
    """

    spec: ProcessSpec
    argv: tuple[str, ...]
    env: Mapping[str, str]
    backoff: Backoff = field(default_factory=Backoff)
    pid: int | None = None
    pgid: int | None = None
    start_at: float | None = 0.0
    started_at: float = 0.0
    stop_deadline: float | None = None
    killed: bool = False
    failed: bool = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def finished(self) -> bool:
        return self.pid is None and self.pgid is None and self.start_at is None
