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


class DuckTyped:
    """The API the docs name, without subclassing Backend: `plan()` (and `run()`) only."""

    kind = "web"
    server = "duck"

    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        return Plan(self.spec.name, ("duck-server", "--port=8000", *overrides), dict(env or {}))

    def run(self, plan: Plan) -> int | None:
        return 0


class DuckWithoutPlan:
    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec


class DuckOfNoKind(DuckTyped):
    kind = "database"


class DuckAnswersWrongly(DuckTyped):
    def listen_address(self, plan: Plan) -> Any:
        return "127.0.0.1:8000"


class DuckFailsBesideOthers(DuckTyped):
    def environment_beside(self, others: Sequence[Any]) -> Any:
        raise RuntimeError("no environment today")


def not_a_class(spec: ProcessSpec) -> Plan:
    return Plan(spec.name, ("server",))
