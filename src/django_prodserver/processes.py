"""`PRODUCTION_PROCESSES`, read and validated in one place.

Everything else (the command, the checks, the backends) works from the
`ProcessSpec` objects made here and never reads the raw setting.
"""

from __future__ import annotations

import shlex
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from django_prodserver.errors import ProdserverError
from django_prodserver.masking import sensitive
from django_prodserver.suggestions import did_you_mean

SETTING = "PRODUCTION_PROCESSES"
KNOWN_KEYS = ("BACKEND", "ARGS", "APP", "ENV", "RESTART", "STOP_TIMEOUT", "STOP_SIGNAL")
RESTART_POLICIES = ("always", "on-failure", "never")
DEFAULT_RESTART = "on-failure"
# The grace period most platforms give a container before they kill it (Heroku, Kubernetes'
# terminationGracePeriodSeconds, Compose's stop_grace_period is 10 s but is usually raised).
DEFAULT_STOP_TIMEOUT = 30.0
DEFAULT_STOP_SIGNAL = "SIGTERM"


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
    # Set on top of the environment prodserver runs in, for this process only.
    env: Mapping[str, str] = field(default_factory=dict)
    # What a runner of several processes (or an exported engine file) does when it ends.
    restart: str = DEFAULT_RESTART
    # How a process is asked to stop, and how long it gets before it is killed.
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    stop_signal: str = DEFAULT_STOP_SIGNAL

    @property
    def stop_signal_number(self) -> signal.Signals:
        return signal.Signals[self.stop_signal]


@dataclass(frozen=True)
class Problem:
    """Something wrong with the configuration, with the id of its system check."""

    id: str
    message: str
    hint: str | None = None
    process: str | None = None


@dataclass(frozen=True)
class Configuration:
    """`PRODUCTION_PROCESSES` as read once: the well-formed processes, and the problems."""

    specs: Mapping[str, ProcessSpec]
    problems: Sequence[Problem]

    def names(self) -> list[str]:
        """Every configured name, well-formed or not, in the order of the setting."""
        broken = [problem.process for problem in self.problems if problem.process]
        return [*self.specs, *(name for name in broken if name not in self.specs)]

    def get(self, name: str) -> ProcessSpec:
        """The process called `name`, or an error that lists the configured names."""
        for problem in self.problems:
            if problem.process in (None, name):
                raise problem_error(problem)
        if name in self.specs:
            return self.specs[name]
        names = self.names()
        if not names:
            raise nothing_configured()
        raise ProdserverError(
            f"Unknown process '{name}'{did_you_mean(name, names, quote=chr(39))}. "
            f"Configured processes: {', '.join(sorted(names))}."
        )

    def every(self) -> list[ProcessSpec]:
        """Every process; an error if any definition is broken or none is configured."""
        for problem in self.problems:
            raise problem_error(problem)
        if not self.specs:
            raise nothing_configured()
        return list(self.specs.values())

    def chosen(self, names: Sequence[str]) -> list[ProcessSpec]:
        """The named processes, each once, in the order given."""
        return [self.get(name) for name in dict.fromkeys(names)]


def read_configuration() -> Configuration:
    """Every well-formed process, and a problem for each one that is not."""
    raw = getattr(settings, SETTING, {})
    if not isinstance(raw, Mapping):
        return Configuration(
            {},
            [
                Problem(
                    "prodserver.E001",
                    f"{SETTING} must be a dict of process name to definition, "
                    f"got {type(raw).__name__}.",
                    hint=f'{SETTING} = {{"web": {{"BACKEND": "...", "ARGS": {{...}}}}}}',
                )
            ],
        )
    specs: dict[str, ProcessSpec] = {}
    problems: list[Problem] = []
    for name, definition in raw.items():
        try:
            specs[str(name)] = _read_process(str(name), definition)
        except _DefinitionError as error:
            problems.append(error.problem)
    return Configuration(specs, problems)


def read_processes() -> tuple[dict[str, ProcessSpec], list[Problem]]:
    """Every well-formed process, and a problem for each one that is not."""
    configuration = read_configuration()
    return dict(configuration.specs), list(configuration.problems)


def get_process(name: str) -> ProcessSpec:
    """The process called `name`, or an error that lists the configured names."""
    return read_configuration().get(name)


def problem_error(problem: Problem) -> ProdserverError:
    return ProdserverError(problem.message + (f"\nHint: {problem.hint}" if problem.hint else ""))


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
        problem = (
            "BACKEND is missing"
            if backend is None or backend == ""
            else f"BACKEND must be a string, got {backend!r}"
        )
        raise _fail(
            "prodserver.E003",
            name,
            f"{problem}; it names the server that runs this process.",
            hint='"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"',
        )
    app = definition.get("APP")
    if app is not None and not isinstance(app, str):
        raise _fail("prodserver.E005", name, f"APP must be a dotted path string, got {app!r}.")
    return ProcessSpec(
        name=name,
        backend=backend,
        args=_read_args(name, definition),
        app=app,
        env=_read_env(name, definition),
        restart=_read_restart(name, definition),
        stop_timeout=_read_stop_timeout(name, definition),
        stop_signal=_read_stop_signal(name, definition),
    )


def _read_args(name: str, definition: Mapping[str, Any]) -> Mapping[str, Any] | tuple[str, ...]:
    args = definition.get("ARGS", {})
    if args is None:
        return {}
    if isinstance(args, Mapping):
        return dict(args)
    if isinstance(args, str):
        try:
            return tuple(shlex.split(args))
        except ValueError as error:  # an unclosed quote, or a backslash at the end
            raise _fail(
                "prodserver.E005",
                name,
                f"ARGS is split into words as a shell would, and {args!r} cannot be: "
                f"{str(error)[0].lower()}{str(error)[1:]}.",
                hint="Close the quote, or write ARGS as a list of words or a dict of options.",
            ) from None
    if isinstance(args, (list, tuple)) and all(isinstance(item, str) for item in args):
        return tuple(args)
    raise _fail(
        "prodserver.E005",
        name,
        f"ARGS must be a dict of options (or a list of argv strings), got {args!r}.",
        hint='"ARGS": {"bind": "0.0.0.0:8000", "workers": 4}',
    )


def _read_env(name: str, definition: Mapping[str, Any]) -> dict[str, str]:
    env = definition.get("ENV") or {}
    if not isinstance(env, Mapping):
        raise _fail(
            "prodserver.E005",
            name,
            f"ENV must be a dict of environment variable to value, got {env!r}.",
            hint='"ENV": {"DJANGO_LOG_LEVEL": "info"}',
        )
    values = {}
    for key, value in env.items():
        if not isinstance(key, str) or not key or "=" in key:
            raise _fail("prodserver.E005", name, f"ENV has a bad variable name {key!r}.")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _fail(
                "prodserver.E005",
                name,
                f"ENV[{key!r}] must be a string or a number, got "
                f"{'a ' + type(value).__name__ if sensitive(key) else repr(value)}.",
            )
        values[key] = str(value)
    return values


def _read_restart(name: str, definition: Mapping[str, Any]) -> str:
    restart = definition.get("RESTART", DEFAULT_RESTART)
    if restart not in RESTART_POLICIES:
        raise _fail(
            "prodserver.E005",
            name,
            f"RESTART must be one of {', '.join(map(repr, RESTART_POLICIES))}, got {restart!r}"
            f"{did_you_mean(str(restart), RESTART_POLICIES, quote=chr(39))}.",
        )
    return str(restart)


def _read_stop_timeout(name: str, definition: Mapping[str, Any]) -> float:
    timeout = definition.get("STOP_TIMEOUT", DEFAULT_STOP_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise _fail(
            "prodserver.E005",
            name,
            f"STOP_TIMEOUT must be a number of seconds greater than 0, got {timeout!r}.",
            hint='"STOP_TIMEOUT": 30',
        )
    return float(timeout)


def _read_stop_signal(name: str, definition: Mapping[str, Any]) -> str:
    value = definition.get("STOP_SIGNAL", DEFAULT_STOP_SIGNAL)
    text = str(value).upper() if isinstance(value, str) else ""
    if text and not text.startswith("SIG"):
        text = "SIG" + text
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            text = signal.Signals(value).name
        except ValueError:
            text = ""
    if text not in signal.Signals.__members__:
        raise _fail(
            "prodserver.E005",
            name,
            f"STOP_SIGNAL must name a signal, such as 'SIGTERM', 'SIGINT' or 'SIGQUIT'; "
            f"got {value!r}.",
        )
    return text
