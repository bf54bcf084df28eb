"""A third-party backend, written against the public API only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django_prodserver.backends.base import Backend, Plan


class EchoBackend(Backend):
    kind = "worker"
    server = "echo"

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        return Plan(self.name, ("echo", self.name, *overrides), dict(env or {}))
