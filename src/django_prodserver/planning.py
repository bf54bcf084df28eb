"""Each process of a command, planned once: its backend, and its plan or what stopped it.

The checks that run before a start, the start itself, `--dry-run` and the runner all
use these, so a process's options are read and validated once per command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django_prodserver.backends.base import Backend, Plan
from django_prodserver.errors import ProdserverError
from django_prodserver.invocation import Invocation
from django_prodserver.loading import load_backend
from django_prodserver.processes import ProcessSpec


@dataclass(frozen=True)
class PlannedProcess:
    spec: ProcessSpec
    backend: Backend | None
    plan: Plan | None
    error: ProdserverError | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def ready(self) -> tuple[Backend, Plan]:
        """The backend and its plan; the error that stopped the plan, raised."""
        if self.error is not None:
            raise self.error
        assert self.backend is not None
        assert self.plan is not None
        return self.backend, self.plan


def plan_process(
    spec: ProcessSpec, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> PlannedProcess:
    """Load the process's backend and plan it; a ProdserverError is kept, not raised."""
    try:
        backend = load_backend(spec)
    except ProdserverError as error:
        return PlannedProcess(spec, None, None, error)
    return _planned(spec, backend, overrides, env or {})


def plan_invocation(invocation: Invocation) -> list[PlannedProcess]:
    """Every process of the command, planned with the environment it will run with."""
    loaded: list[tuple[ProcessSpec, Backend | None, ProdserverError | None]] = []
    for spec in invocation.processes:
        try:
            loaded.append((spec, load_backend(spec), None))
        except ProdserverError as failure:
            loaded.append((spec, None, failure))
    backends = [backend for _, backend, _ in loaded if backend is not None]
    planned = []
    for spec, backend, error in loaded:
        if backend is None:
            planned.append(PlannedProcess(spec, None, None, error))
            continue
        beside = backend.environment_beside([b for b in backends if b is not backend])
        env = {**invocation.django.line_environment(), **(beside if invocation.together else {})}
        planned.append(_planned(spec, backend, invocation.overrides, {**env, **spec.env}))
    return planned


def _planned(
    spec: ProcessSpec, backend: Backend, overrides: Sequence[str], env: Mapping[str, str]
) -> PlannedProcess:
    try:
        return PlannedProcess(spec, backend, backend.plan(overrides, env))
    except ProdserverError as error:
        return PlannedProcess(spec, backend, None, error)
