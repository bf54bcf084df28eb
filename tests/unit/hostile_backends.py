"""Backends that misbehave as third-party code can: each must be a check error, not a traceback.

`PRODUCTION_PROCESSES` names them as `tests.unit.hostile_backends.<Class>`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django_prodserver.backends.base import Backend, Plan
from django_prodserver.processes import ProcessSpec


class RaisesInInit(Backend):
    def __init__(self, spec: ProcessSpec) -> None:
        raise RuntimeError("cannot reach the license server")

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        return Plan(self.name, ("server",))


class RaisesInPlan(Backend):
    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        raise KeyError("PORT")


class PlansNone(Backend):
    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Any:
        return None


class PlansNoCommand(Backend):
    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        return Plan(self.name, ())


class PlansANul(Backend):
    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        return Plan(self.name, ("server", "--name=a\x00b"))


class PlansABadEnvironment(Backend):
    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        return Plan(self.name, ("server",), {"PORT": 8000})  # type: ignore[dict-item]
