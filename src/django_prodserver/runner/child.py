"""One process of the runner: its settings, what the runner starts for it, and its state
across restarts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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

    `copy` is its number among the copies of one process (`prodserver web=2`: `web.1`,
    `web.2`), None when it runs once. `style`, `fds`, `where` and `probe` say how a reload
    replaces it and what the runner holds for it (see holding.py): `fds` are the runner's
    listening sockets it serves on, `extra_fds` those of this run only (the private socket
    of a new child under its health check). `retiring`: it is being stopped for good (the
    old child of a reload, or a new one that failed), and leaves the runner once gone.
    `restarting`: stopped by a reload, to start again at once.
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
    copy: int | None = None
    style: str = "restart"
    fds: tuple[int, ...] = ()
    where: str = ""
    probe: Mapping[str, Any] = field(default_factory=dict)
    extra_fds: tuple[int, ...] = ()
    retiring: bool = False
    restarting: bool = False

    @property
    def name(self) -> str:
        return self.spec.name if self.copy is None else f"{self.spec.name}.{self.copy}"

    def successor(self) -> Child:
        """A new child of the same process, to replace this one (not yet started)."""
        return Child(
            self.spec,
            self.argv,
            self.env,
            start_at=None,
            copy=self.copy,
            style=self.style,
            fds=self.fds,
            where=self.where,
            probe=self.probe,
        )

    @property
    def finished(self) -> bool:
        return self.pid is None and self.pgid is None and self.start_at is None
