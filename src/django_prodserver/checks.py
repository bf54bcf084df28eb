"""`manage.py check` for PRODUCTION_PROCESSES: a broken definition fails CI, not a deploy."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Warning

from django_prodserver.backends.loading import load_backend
from django_prodserver.errors import MissingPackageError, ProdserverError
from django_prodserver.processes import read_processes
from django_prodserver.shared_resources import shared_resources


@dataclass(frozen=True)
class Scope:
    """How far the checks go: the processes (None: every one), and whether they start now."""

    names: frozenset[str] | None
    starting: bool


# Set by `manage.py check` (every process, in depth) and by `prodserver` (the processes it
# starts). Unset, as before `migrate` or `runserver`, only the definitions' shape is
# checked: validating options imports every server (about 0.2 s and 500 modules for
# gunicorn and Celery), which those commands would pay on every run and every reload.
_scope: ContextVar[Scope | None] = ContextVar("scope", default=None)


@contextmanager
def _checking(scope: Scope) -> Iterator[None]:
    token = _scope.set(scope)
    try:
        yield
    finally:
        _scope.reset(token)


def checking_for_a_start(names: Collection[str] | None) -> ContextManager[None]:
    """The processes about to start, in depth; a start of `web` skips the workers."""
    return _checking(Scope(frozenset(names) if names else None, starting=True))


def checking_in_depth() -> ContextManager[None]:
    """Every process, each option validated as its server would: `manage.py check`."""
    return _checking(Scope(None, starting=False))


def check_production_processes(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    specs, problems = read_processes()
    scope = _scope.get()
    if scope is not None and scope.names is not None:
        specs = {name: spec for name, spec in specs.items() if name in scope.names}
        problems = [p for p in problems if p.process is None or p.process in scope.names]
    errors: list[CheckMessage] = [
        Error(problem.message, hint=problem.hint, id=problem.id) for problem in problems
    ]
    for spec in specs.values():
        try:
            backend = load_backend(spec)
            if scope is not None:
                backend.plan()
        except MissingPackageError as error:
            starting = scope is not None and scope.starting
            errors.append(missing_package(error, spec.name, for_a_start=starting))
        except ProdserverError as error:
            errors.append(Error(str(error), id=error.check_id))
    if scope is not None:
        # A warning, not an error: processes deployed apart (two containers, two machines)
        # may well listen on the same address. Run together, the runner refuses them.
        errors.extend(
            Warning(clash.message, hint=clash.hint, id="prodserver.W001")
            for clash in shared_resources(list(specs.values()))
        )
    return errors


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
