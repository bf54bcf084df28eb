"""`manage.py check` for PRODUCTION_PROCESSES: a broken definition fails CI, not a deploy."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
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
class Start:
    """What `prodserver` is about to start: these names, or every process (None)."""

    names: frozenset[str] | None


# Set while `prodserver` checks the processes it starts. A start of `web` must not import
# Celery, nor fail on a worker's missing package.
_start: ContextVar[Start | None] = ContextVar("start", default=None)


@contextmanager
def checking_for_a_start(names: Collection[str] | None) -> Iterator[None]:
    token = _start.set(Start(frozenset(names) if names else None))
    try:
        yield
    finally:
        _start.reset(token)


def check_production_processes(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    specs, problems = read_processes()
    start = _start.get()
    if start is not None and start.names is not None:
        specs = {name: spec for name, spec in specs.items() if name in start.names}
        problems = [p for p in problems if p.process is None or p.process in start.names]
    errors: list[CheckMessage] = [
        Error(problem.message, hint=problem.hint, id=problem.id) for problem in problems
    ]
    for spec in specs.values():
        try:
            load_backend(spec).plan()
        except MissingPackageError as error:
            errors.append(missing_package(error, spec.name, for_a_start=start is not None))
        except ProdserverError as error:
            errors.append(Error(str(error), id=error.check_id))
    # A warning, not an error: processes deployed apart (two containers, two machines)
    # may well listen on the same address. Run together, the runner refuses them.
    errors.extend(
        Warning(clash.message, hint=clash.hint, id="prodserver.W001")
        for clash in shared_resources(list(specs.values()))
    )
    return errors


def missing_package(error: MissingPackageError, process: str, *, for_a_start: bool) -> CheckMessage:
    """An error when the process is about to start; a warning for every other command.

    Django runs the checks before `migrate`, `runserver` and most commands, often where
    the process never runs (a developer's machine without gunicorn, a worker's image):
    they must not stop there.
    """
    if for_a_start:
        return Error(str(error), id=error.check_id)
    return Warning(
        str(error),
        hint=f"Only `prodserver {process}` needs it: other commands go on without it.",
        id="prodserver.W002",
    )
