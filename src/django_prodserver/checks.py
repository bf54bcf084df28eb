"""`manage.py check` for PRODUCTION_PROCESSES: a broken definition fails CI, not a deploy."""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Warning
from django.core.checks.registry import registry
from django.core.management.base import BaseCommand

from django_prodserver.backends.base import Backend, Plan
from django_prodserver.compat.none_flags import flags_set_by_none
from django_prodserver.errors import MissingPackageError, ProdserverError
from django_prodserver.loading import load_backend
from django_prodserver.masking import mask_secrets
from django_prodserver.planning import PlannedProcess, plan_process
from django_prodserver.processes import Configuration, ProcessSpec, read_configuration
from django_prodserver.shared_resources import shared_resources

# The tag of the checks of PRODUCTION_PROCESSES (`manage.py check --tag prodserver`).
TAGS = ("prodserver",)


@dataclass(frozen=True)
class Scope:
    """How far the checks go: the processes (None: every one), and whether they start now.

    A start has planned its processes already: the checks report those plans' errors
    rather than plan them again.
    """

    planned: Mapping[str, PlannedProcess] | None
    starting: bool
    # The setting as the command read it; None: read it here.
    configuration: Configuration | None = None
    # The processes checked; None: those planned (every one, when nothing was planned).
    names: frozenset[str] | None = None

    def includes(self, name: str | None) -> bool:
        names = self.names if self.names is not None else self.planned
        return names is None or name is None or name in names


def start_scope(
    planned: Sequence[PlannedProcess],
    configuration: Configuration | None = None,
    names: Collection[str] | None = None,
) -> Scope:
    """The processes about to start, as planned; a start of `web` skips the workers.

    `names` widens the checks to processes that could not be planned (a definition of the
    wrong shape); None: every process, when nothing was planned.
    """
    by_name = {process.name: process for process in planned}
    chosen = frozenset(names) if names is not None else None
    return Scope(by_name, starting=True, configuration=configuration, names=chosen)


# Every process, each option validated as its server would: `manage.py check`.
IN_DEPTH = Scope(None, starting=False)


def messages_before_a_start(
    planned: Sequence[PlannedProcess],
    configuration: Configuration | None = None,
    names: Collection[str] | None = None,
) -> list[CheckMessage]:
    """What the checks say of the processes about to start (see `start_scope`)."""
    return production_process_messages(start_scope(planned, configuration, names))


def messages_in_depth() -> list[CheckMessage]:
    """What `manage.py check` says of PRODUCTION_PROCESSES."""
    return production_process_messages(IN_DEPTH)


def check_production_processes(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The check registered with Django's: the shape of each definition only.

    Django runs it before most commands (`migrate`, `runserver` at each reload), which
    would pay for validating every option (importing every server: about 0.2 s and 500
    modules for gunicorn and Celery) on every run. `manage.py check` and a start check
    further, through `registered()`.
    """
    return production_process_messages(None)


def run_checks(command: BaseCommand, scope: Scope) -> None:
    """The checks of PRODUCTION_PROCESSES as far as `scope` goes, shown as Django shows its
    checks (warnings printed, SystemCheckError on an error), through `command.check()`."""
    with registered(scope):
        command.check(tags=list(TAGS))


@contextmanager
def registered(scope: Scope) -> Iterator[None]:
    """For its duration, Django runs the checks of PRODUCTION_PROCESSES as far as `scope` goes.

    The check registered at start-up (the shape only) is replaced by one that holds `scope`:
    the command that knows how far to check hands it to the check, rather than setting it
    where the check would look.
    """
    checks: set[Any] = registry.registered_checks
    scoped = functools.partial(_scoped_check, scope)
    was_registered = check_production_processes in checks
    checks.discard(check_production_processes)
    registry.register(scoped, *TAGS)
    try:
        yield
    finally:
        checks.discard(scoped)
        if was_registered:
            checks.add(check_production_processes)


def _scoped_check(scope: Scope, **kwargs: Any) -> list[CheckMessage]:
    return production_process_messages(scope)


def masked(message: CheckMessage) -> CheckMessage:
    """The message with its secrets masked: a message may quote a value as configured."""
    message.msg = mask_secrets(message.msg)
    if message.hint:
        message.hint = mask_secrets(message.hint)
    return message


def production_process_messages(scope: Scope | None) -> list[CheckMessage]:
    """What the checks of PRODUCTION_PROCESSES say, as far as `scope` goes (None: the shape
    of each definition only), secrets masked."""
    return [masked(message) for message in _messages(scope)]


def _messages(scope: Scope | None) -> list[CheckMessage]:
    configuration = (scope and scope.configuration) or read_configuration()
    # A broken definition's options are checked in the same round as its shape.
    specs = {**configuration.specs, **configuration.checkable}
    problems = list(configuration.problems)
    if scope is not None and (scope.planned or scope.names is not None):
        specs = {name: spec for name, spec in specs.items() if scope.includes(name)}
        problems = [p for p in problems if scope.includes(p.process)]
    errors: list[CheckMessage] = [
        Error(problem.message, hint=problem.hint, id=problem.id) for problem in problems
    ]
    backends = []
    for spec in specs.values():
        error = None
        if scope is None:
            try:
                backends.append(load_backend(spec))
            except ProdserverError as failure:
                error = failure
        else:
            planned = (scope.planned or {}).get(spec.name) or plan_process(spec)
            error = planned.error
            if planned.backend is not None:
                backends.append(planned.backend)
            if planned.plan is not None:
                errors.extend(flags_set_by_none(planned.plan))
            if planned.plan is not None and planned.backend is not None:
                errors.extend(warmup_not_honoured(planned.backend, planned.plan))
        if isinstance(error, MissingPackageError):
            starting = scope is not None and scope.starting
            errors.append(missing_package(error, spec.name, for_a_start=starting))
        elif error is not None:
            errors.append(Error(str(error), id=error.check_id))
        if scope is not None and not scope.starting and spec.dev is not None:
            errors.extend(dev_override_errors(spec))
    if scope is not None and not scope.starting and scope.names is None:
        errors.extend(tasks_without_a_worker(backends))
    if scope is not None:
        # A warning, not an error: processes deployed apart (two containers, two machines)
        # may well listen on the same address. Run together, the runner refuses them.
        errors.extend(
            Warning(clash.message, hint=clash.hint, id="prodserver.W001")
            for clash in shared_resources(backends)
        )
    return errors


def tasks_without_a_worker(backends: Sequence[Backend]) -> list[CheckMessage]:
    """A TASKS alias whose tasks no process runs: they would wait in the queue for good."""
    from django_prodserver.task_workers import TASKS_WORKER, aliases_without_a_worker

    return [
        Warning(
            f"{tasks.label} is '{tasks.path}', whose tasks wait for a worker, and no process "
            f"of PRODUCTION_PROCESSES runs them.",
            hint=f'Add one: "tasks": {{"BACKEND": "{TASKS_WORKER}"'
            + (f', "ARGS": {{"backend": "{tasks.alias}"}}' if tasks.alias != "default" else "")
            + "}.",
            id="prodserver.W005",
        )
        for tasks in aliases_without_a_worker(backends)
    ]


def dev_override_errors(spec: ProcessSpec) -> list[CheckMessage]:
    """DEV, planned as `manage.py devserver` will: its BACKEND and ARGS, in depth."""
    error = plan_process(spec.with_dev_override()).error
    if isinstance(error, MissingPackageError):
        return [missing_package(error, spec.name, for_a_start=False)]
    if error is None:
        return []
    return [
        Error(
            f"In DEV (what `manage.py devserver` runs): {error}",
            hint=f"Fix DEV in the definition of '{spec.name}', or remove it.",
            id=error.check_id,
        )
    ]


def warmup_not_honoured(backend: Backend, plan: Plan) -> list[CheckMessage]:
    """HEALTH['WARMUP'] on a server that runs as its own command (or an ASGI application)."""
    if not backend.spec.health.warmup or backend.warms_up(plan):
        return []
    why = (
        "it loads the application in a process of its own"
        if backend.kind == "web"
        else "a worker serves no requests"
    )
    return [
        Warning(
            f"Process '{backend.name}': HEALTH['WARMUP'] is not done by {backend.server} "
            f"({why}); its first request loads the application.",
            hint="Warm-up is done by gunicorn (a WSGI worker class) and waitress, which "
            "prodserver serves in its own process. Remove WARMUP, or switch the server.",
            id="prodserver.W004",
        )
    ]


def missing_package(error: MissingPackageError, process: str, *, for_a_start: bool) -> CheckMessage:
    """An error when the process is about to start; a warning for `manage.py check`.

    `check` often runs where the process never does (a developer's machine without
    gunicorn, a worker's image), and must not fail there.
    """
    if for_a_start:
        return Error(str(error), id=error.check_id)
    return Warning(
        str(error),
        hint=f"Only `prodserver {process}` needs it: other commands go on without it.",
        id="prodserver.W002",
    )
