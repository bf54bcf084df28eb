"""`manage.py check` for PRODUCTION_PROCESSES: a broken definition fails CI, not a deploy."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Warning

from django_prodserver.backends.loading import load_backend
from django_prodserver.errors import ProdserverError
from django_prodserver.processes import read_processes
from django_prodserver.shared_resources import shared_resources

# The processes a `prodserver` start checks: only those it starts (None: every one). A
# start of `web` must not import Celery, nor fail on a worker's missing package.
_only_processes: ContextVar[frozenset[str] | None] = ContextVar("only_processes", default=None)


@contextmanager
def checking_only(names: Collection[str] | None) -> Iterator[None]:
    token = _only_processes.set(frozenset(names) if names else None)
    try:
        yield
    finally:
        _only_processes.reset(token)


def check_production_processes(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    specs, problems = read_processes()
    only = _only_processes.get()
    if only is not None:
        specs = {name: spec for name, spec in specs.items() if name in only}
        problems = [p for p in problems if p.process is None or p.process in only]
    errors: list[CheckMessage] = [
        Error(problem.message, hint=problem.hint, id=problem.id) for problem in problems
    ]
    for spec in specs.values():
        try:
            load_backend(spec).plan()
        except ProdserverError as error:
            errors.append(Error(str(error), id=error.check_id))
    # A warning, not an error: processes deployed apart (two containers, two machines)
    # may well listen on the same address. Run together, the runner refuses them.
    errors.extend(
        Warning(clash.message, hint=clash.hint, id="prodserver.W001")
        for clash in shared_resources(list(specs.values()))
    )
    return errors
