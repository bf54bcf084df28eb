"""django-prodserver 3.0's backends (`BaseProcessBackend` subclasses), run by every command.

Such a backend runs inside this process: `start_server(*prep_server_args())`. Its plan
says so, since the words it is given are not a command a shell could run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from django_prodserver.backend_code import call_backend
from django_prodserver.backends.base import Backend, Plan
from django_prodserver.compat.api import BaseProcessBackend, BaseWorkerBackend
from django_prodserver.errors import BackendFailure
from django_prodserver.processes import ProcessSpec


def legacy_backend(spec: ProcessSpec, backend_class: type[BaseProcessBackend]) -> LegacyBackend:
    """A `LegacyBackend` of `backend_class`'s kind: a worker, or else a web process."""
    kind = "worker" if issubclass(backend_class, BaseWorkerBackend) else "web"
    attributes = {"kind": kind, "server": backend_class.__name__, "backend_class": backend_class}
    adapter: type[LegacyBackend] = type(
        f"Legacy{backend_class.__name__}", (LegacyBackend,), attributes
    )
    return adapter(spec)


class LegacyBackend(Backend):
    """Our backend API around a class written against django-prodserver 3.0's."""

    backend_class: ClassVar[type[BaseProcessBackend]]

    def __init__(self, spec: ProcessSpec) -> None:
        super().__init__(spec)
        self.instance: BaseProcessBackend | None = None

    def definition(self) -> dict[str, Any]:
        args = dict(self.spec.args) if isinstance(self.spec.args, Mapping) else list(self.spec.args)
        definition: dict[str, Any] = {"BACKEND": self.spec.backend, "ARGS": args}
        if self.spec.app is not None:
            definition["APP"] = self.spec.app
        if self.spec.env:
            definition["ENV"] = dict(self.spec.env)
        return definition

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        instance = call_backend(
            self.spec, "be constructed", lambda: self.backend_class(**self.definition())
        )
        self.instance = instance
        words = call_backend(self.spec, "prepare its arguments", instance.prep_server_args)
        if not isinstance(words, (list, tuple)) or not all(isinstance(w, str) for w in words):
            raise BackendFailure(
                f"Process '{self.name}': {self.spec.backend}.prep_server_args() must return a "
                f"list of strings, got {words!r}."
            )
        start = f"{self.backend_class.__module__}.{self.backend_class.__qualname__}.start_server"
        return Plan(
            self.name,
            (start, *words, *overrides),
            dict(env or {}),
            note=f"run inside `manage.py prodserver {self.name}` (a django-prodserver 3.0 backend)",
        )

    def run(self, plan: Plan) -> int | None:
        assert self.instance is not None
        self.instance.start_server(*plan.argv[1:])
        return None
