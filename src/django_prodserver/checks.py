"""`manage.py check` for PRODUCTION_PROCESSES: a broken definition fails CI, not a deploy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Warning

from django_prodserver.backends.loading import load_backend
from django_prodserver.errors import ProdserverError
from django_prodserver.processes import read_processes
from django_prodserver.shared_resources import shared_resources


def check_production_processes(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    specs, problems = read_processes()
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
