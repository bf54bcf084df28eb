"""Each process of a command, planned once: its backend, and its plan or what stopped it.

The checks that run before a start, the start itself, `--dry-run` and the runner all
use these, so a process's options are read and validated once per command.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django_prodserver.backend_code import exception_text
from django_prodserver.backends.base import AddressError, Backend, Plan
from django_prodserver.bounds import shown
from django_prodserver.choosing import Chosen
from django_prodserver.errors import BackendFailure, OptionError, ProdserverError
from django_prodserver.loading import load_backend
from django_prodserver.port_per_process import assigned_ports, port_variables
from django_prodserver.processes import MAX_STOP_TIMEOUT, ProcessSpec


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


def plan_loaded(
    spec: ProcessSpec, backend: Backend, env: Mapping[str, str] | None = None
) -> PlannedProcess:
    """Plan a process whose backend is loaded already; a ProdserverError is kept, not raised."""
    return _planned(spec, backend, (), env or {})


def plan_chosen(
    chosen: Chosen, loaded: Mapping[str, Backend | ProdserverError] | None = None
) -> list[PlannedProcess]:
    """Every process of the command, planned with the environment it will run with.

    `loaded`: backends already loaded (or the error that stopped each), by process name;
    the others are loaded here.
    """
    loaded = dict(loaded or {})
    for spec in chosen.processes:
        if spec.name not in loaded:
            try:
                loaded[spec.name] = load_backend(spec)
            except ProdserverError as failure:
                loaded[spec.name] = failure
    backends = [
        backend for spec in chosen.processes if isinstance(backend := loaded[spec.name], Backend)
    ]
    ports = (
        assigned_ports([(backend.spec, backend) for backend in backends], chosen.base_port)
        if chosen.together and chosen.base_port is not None
        else {}
    )
    planned = []
    for spec in chosen.processes:
        backend = loaded[spec.name]
        if not isinstance(backend, Backend):
            planned.append(PlannedProcess(spec, None, None, backend))
            continue
        beside = (
            backend.environment_beside([b for b in backends if b is not backend])
            if chosen.together
            else {}
        )
        env = {**chosen.django.line_environment(), **beside, **port_variables(ports, spec.name)}
        planned.append(_planned(spec, backend, chosen.overrides, {**env, **spec.env}))
    return planned


def _planned(
    spec: ProcessSpec, backend: Backend, overrides: Sequence[str], env: Mapping[str, str]
) -> PlannedProcess:
    try:
        plan = checked_plan(spec, backend.plan(overrides, env))
        if backend.kind == "web":
            backend.listen_address(plan)  # a port that is no port is an error of the plan
        check_graceful_timeout(spec, backend, plan)
        return PlannedProcess(spec, backend, plan)
    except AddressError as error:
        return PlannedProcess(spec, backend, None, OptionError(f"Process '{spec.name}': {error}"))
    except ProdserverError as error:
        return PlannedProcess(spec, backend, None, error)
    except Exception as error:  # a backend's own code: a check error, not a traceback
        failure = BackendFailure(
            f"Process '{spec.name}': BACKEND '{spec.backend}' failed to plan the process: "
            f"{exception_text(error)}"
        )
        return PlannedProcess(spec, backend, None, failure)


def check_graceful_timeout(spec: ProcessSpec, backend: Backend, plan: Plan) -> None:
    """The server's graceful window, within what STOP_TIMEOUT may be (the exports add them)."""
    seconds = backend.graceful_timeout(plan)
    # Compared, not converted: float() of a huge int overflows, and NaN fails both bounds.
    if seconds is not None and not 0 <= seconds <= MAX_STOP_TIMEOUT:
        raise OptionError(
            f"Process '{spec.name}': {backend.server}'s graceful timeout is {shown(seconds)} "
            f"seconds; it must be from 0 to {MAX_STOP_TIMEOUT} (a day)."
        )


def checked_plan(spec: ProcessSpec, plan: object) -> Plan:
    """`plan`, if it is a Plan whose line and environment a process can be started with."""
    what = f"Process '{spec.name}': BACKEND '{spec.backend}'.plan()"
    if not isinstance(plan, Plan):
        raise BackendFailure(f"{what} must return a Plan, got {shown(plan)}.")
    argv = plan.argv
    if not isinstance(argv, (tuple, list)) or not argv:
        raise BackendFailure(f"{what} must give a Plan a non-empty argv, got {shown(argv)}.")
    for word in argv:
        if not isinstance(word, str) or not _startable(word):
            raise BackendFailure(
                f"{what} gave a command line word that cannot be passed to a process: "
                f"{shown(word)} (a word is a string without a NUL character)."
            )
    if not isinstance(plan.env, Mapping):
        raise BackendFailure(f"{what} must give a Plan a dict env, got {shown(plan.env)}.")
    for name, value in plan.env.items():
        if not all(isinstance(text, str) and _startable(text) for text in (name, value)) or (
            not name or "=" in name
        ):
            raise BackendFailure(
                f"{what} gave an environment variable that cannot be set: "
                f"{shown(name)}={shown(value)}."
            )
    return plan


def _startable(text: str) -> bool:
    """Whether `text` can be a word of exec's argv or environment (as the OS encodes it)."""
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        return False
    return "\x00" not in text
