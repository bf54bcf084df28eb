"""`PRODUCTION_PROCESSES`, read and validated in one place.

Everything else (the command, the checks, the backends) works from the
`ProcessSpec` objects made here and never reads the raw setting.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from django_prodserver.errors import ProdserverError
from django_prodserver.suggestions import did_you_mean

SETTING = "PRODUCTION_PROCESSES"
KNOWN_KEYS = ("BACKEND", "ARGS", "APP")


@dataclass(frozen=True)
class ProcessSpec:
    """One process definition, checked for shape (not yet for its server's options).

    `args` is either a mapping of option name to value (the documented form) or a
    tuple of argv strings (a list in settings, or a string split as a shell would).
    """

    name: str
    backend: str
    args: Mapping[str, Any] | tuple[str, ...] = field(default_factory=dict)
    app: str | None = None


@dataclass(frozen=True)
class Problem:
    """Something wrong with the configuration, with the id of its system check."""

    id: str
    message: str
    hint: str | None = None
    process: str | None = None


def read_processes() -> tuple[dict[str, ProcessSpec], list[Problem]]:
    """Every well-formed process, and a problem for each one that is not."""
    raw = getattr(settings, SETTING, {})
    if not isinstance(raw, Mapping):
        return {}, [
            Problem(
                "prodserver.E001",
                f"{SETTING} must be a dict of process name to definition, "
                f"got {type(raw).__name__}.",
                hint=f'{SETTING} = {{"web": {{"BACKEND": "...", "ARGS": {{...}}}}}}',
            )
        ]
    specs: dict[str, ProcessSpec] = {}
    problems: list[Problem] = []
    for name, definition in raw.items():
        try:
            specs[str(name)] = _read_process(str(name), definition)
        except _DefinitionError as error:
            problems.append(error.problem)
    return specs, problems


def get_process(name: str) -> ProcessSpec:
    """The process called `name`, or an error that lists the configured names."""
    specs, problems = read_processes()
    for problem in problems:
        if problem.process in (None, name):
            raise ProdserverError(
                problem.message + (f"\nHint: {problem.hint}" if problem.hint else "")
            )
    if name in specs:
        return specs[name]
    names = sorted(specs) + [p.process for p in problems if p.process]
    if not names:
        raise nothing_configured()
    raise ProdserverError(
        f"Unknown process '{name}'{did_you_mean(name, names, quote=chr(39))}. "
        f"Configured processes: {', '.join(sorted(names))}."
    )


def nothing_configured() -> ProdserverError:
    return ProdserverError(f"No process is configured: {SETTING} is empty or not set.")


def configured_names() -> list[str]:
    raw = getattr(settings, SETTING, {})
    return [str(name) for name in raw] if isinstance(raw, Mapping) else []


class _DefinitionError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _fail(check_id: str, name: str, message: str, hint: str | None = None) -> _DefinitionError:
    return _DefinitionError(Problem(check_id, f"Process '{name}': {message}", hint, name))


def _read_process(name: str, definition: object) -> ProcessSpec:
    if not isinstance(definition, Mapping):
        raise _fail(
            "prodserver.E002",
            name,
            f"the definition must be a dict, got {type(definition).__name__}.",
            hint='{"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"}',
        )
    unknown = [key for key in definition if key not in KNOWN_KEYS]
    if unknown:
        key = str(unknown[0])
        raise _fail(
            "prodserver.E006",
            name,
            f"unknown key {key!r}{did_you_mean(key, KNOWN_KEYS, quote=chr(39))}. "
            f"A definition takes {', '.join(KNOWN_KEYS)}.",
        )
    backend = definition.get("BACKEND")
    if not backend or not isinstance(backend, str):
        raise _fail(
            "prodserver.E003",
            name,
            "BACKEND is missing; it names the server that runs this process.",
            hint='"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"',
        )
    app = definition.get("APP")
    if app is not None and not isinstance(app, str):
        raise _fail("prodserver.E005", name, f"APP must be a dotted path string, got {app!r}.")
    return ProcessSpec(name=name, backend=backend, args=_read_args(name, definition), app=app)


def _read_args(name: str, definition: Mapping[str, Any]) -> Mapping[str, Any] | tuple[str, ...]:
    args = definition.get("ARGS", {})
    if args is None:
        return {}
    if isinstance(args, Mapping):
        return dict(args)
    if isinstance(args, str):
        return tuple(shlex.split(args))
    if isinstance(args, (list, tuple)) and all(isinstance(item, str) for item in args):
        return tuple(args)
    raise _fail(
        "prodserver.E005",
        name,
        f"ARGS must be a dict of options (or a list of argv strings), got {args!r}.",
        hint='"ARGS": {"bind": "0.0.0.0:8000", "workers": 4}',
    )
