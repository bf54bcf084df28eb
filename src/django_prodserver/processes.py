"""`PRODUCTION_PROCESSES`, read and validated in one place.

Everything else (the command, the checks, the backends, the runner, the reloader, the
exports) works from the `ProcessSpec` objects made here and never reads the raw setting.
Where a spec crosses an exec (into the runner's own interpreter, which loads no Django),
it travels as JSON: `spec_to_data()` and `spec_from_data()`. Django's settings are
imported where the setting is read, not with this module, for that interpreter.
"""

from __future__ import annotations

import math
import re
import shlex
import signal
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from django_prodserver.bounds import LARGEST_OPTION_NUMBER, option_number, shown
from django_prodserver.errors import ProdserverError
from django_prodserver.health import EXAMPLE as HEALTH_EXAMPLE
from django_prodserver.health import HealthCheck, read_health
from django_prodserver.masking import sensitive
from django_prodserver.resources import EXAMPLE as RESOURCES_EXAMPLE
from django_prodserver.resources import Resources, read_resources
from django_prodserver.suggestions import did_you_mean

SETTING = "PRODUCTION_PROCESSES"
KNOWN_KEYS = (
    "BACKEND",
    "ARGS",
    "APP",
    "ENV",
    "RESTART",
    "STOP_TIMEOUT",
    "STOP_SIGNAL",
    "HEALTH",
    "RESOURCES",
    "DEV",
)
# What DEV may replace for `manage.py devserver`; the rest of the definition stays.
DEV_KEYS = ("BACKEND", "ARGS", "ENV")
RESTART_POLICIES = ("always", "on-failure", "never")
DEFAULT_RESTART = "on-failure"
# The grace period most platforms give a container before they kill it (Heroku, Kubernetes'
# terminationGracePeriodSeconds, Compose's stop_grace_period is 10 s but is usually raised).
DEFAULT_STOP_TIMEOUT = 30.0
DEFAULT_STOP_SIGNAL = "SIGTERM"
# A day: a longer wait for a process to stop is a typo (or `float("inf")`), not a policy.
MAX_STOP_TIMEOUT = 24 * 60 * 60
# A name a shell, a unit file and a folder name all take as it is (ASCII only: an engine's
# names are), not an option (`--all`) nor a hidden or parent folder (`.x`, `..`).
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
MAX_NAME_LENGTH = 64
NAME_RULE = (
    f"a process name is letters, digits, '-', '_' and '.', not starting with '-' or '.', "
    f"at most {MAX_NAME_LENGTH} characters"
)


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
    # A web process's HTTP check (`--probe`, the exports' probes) and its warm-up.
    health: HealthCheck = field(default_factory=HealthCheck)
    # The CPU and memory it asks for and may use (the Kubernetes export's resources).
    resources: Resources = field(default_factory=Resources)
    # DEV: what `manage.py devserver` replaces (BACKEND, ARGS, ENV); None: nothing.
    # `in_development` is False when DEV is False: devserver leaves the process out.
    dev: DevOverride | None = None
    in_development: bool = True

    @property
    def stop_signal_number(self) -> signal.Signals:
        return signal.Signals[self.stop_signal]

    def with_dev_override(self) -> ProcessSpec:
        """The process as DEV has it for `manage.py devserver`.

        Another BACKEND starts from no ARGS (the configured ones are another server's);
        DEV's ENV is added to ENV.
        """
        if self.dev is None:
            return self
        if self.dev.args is not None:
            args = self.dev.args
        else:
            args = {} if self.dev.backend not in (None, self.backend) else self.args
        return replace(
            self,
            backend=self.dev.backend or self.backend,
            args=args,
            env={**self.env, **self.dev.env},
            dev=None,
        )


def spec_to_data(spec: ProcessSpec) -> dict[str, Any]:
    """The spec as JSON's types, for `spec_from_data()` on the other side of an exec.

    ARGS values are JSON's types already, but for a value a 3.0 backend takes as it is
    (a `Path`): it crosses as its text, and the runner, which reads the copy, reads no ARGS.
    """
    data = asdict(spec)
    data["args"] = _json_value(spec.args)
    if spec.dev is not None:
        data["dev"]["args"] = _json_value(spec.dev.args)
    return data


def spec_from_data(data: Mapping[str, Any]) -> ProcessSpec:
    """The spec that `spec_to_data()` gave `data` of."""
    fields = dict(data)
    fields["args"] = _args_from_json(fields["args"])
    fields["health"] = HealthCheck(**fields["health"])
    fields["resources"] = Resources(**fields["resources"])
    if fields["dev"] is not None:
        dev = dict(fields["dev"])
        dev["args"] = None if dev["args"] is None else _args_from_json(dev["args"])
        fields["dev"] = DevOverride(**dev)
    return ProcessSpec(**fields)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    return str(value)


def _args_from_json(args: Any) -> Mapping[str, Any] | tuple[str, ...]:
    """A dict of options, or a list of words (a tuple in a spec)."""
    return dict(args) if isinstance(args, Mapping) else tuple(args)


@dataclass(frozen=True)
class DevOverride:
    """A process's DEV dict, checked: each field None when DEV leaves it as it is."""

    backend: str | None = None
    args: Mapping[str, Any] | tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)


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
    # Broken definitions whose BACKEND and ARGS are fine: the checks plan them too, so that
    # their option errors come in the same round as the rest (never started).
    checkable: Mapping[str, ProcessSpec] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Every configured name, well-formed or not, in the order of the setting."""
        broken = [p.process for p in self.problems if p.process is not None]
        return [*self.specs, *(name for name in broken if name not in self.specs)]

    def get(self, name: str) -> ProcessSpec:
        """The process called `name`, or an error that lists the configured names.

        A name that cannot be used stops every process: it would become an option of a
        command line, or a path, wherever processes are started or exported.
        """
        found = [problem for problem in self.problems if concerns(problem, [name])]
        if found:
            raise problems_error(found)
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
        if self.problems:
            raise problems_error(self.problems)
        if not self.specs:
            raise nothing_configured()
        return list(self.specs.values())

    def chosen(self, names: Sequence[str]) -> list[ProcessSpec]:
        """The named processes, each once, in the order given."""
        return [self.get(name) for name in dict.fromkeys(names)]


def read_configuration() -> Configuration:
    """Every well-formed process, and a problem for each one that is not."""
    from django.conf import settings

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
    checkable: dict[str, ProcessSpec] = {}
    problems: list[Problem] = []
    for name, definition in raw.items():
        name_problem = name_error(name)
        spec, found = _read_process(name_text(name), definition)
        found = [name_problem, *found] if name_problem else found
        if not found and spec is not None:
            specs[spec.name] = spec
        elif spec is not None and name_problem is None:
            checkable[spec.name] = spec
        problems.extend(found)
    return Configuration(specs, problems, checkable)


# The check of process names: a bad one concerns every command, whatever it names.
NAME_CHECK = "prodserver.E013"


def concerns(problem: Problem, names: Sequence[str]) -> bool:
    """Whether `problem` stops a command about `names` (none: about every process)."""
    return (
        problem.process is None or problem.id == NAME_CHECK or not names or problem.process in names
    )


def name_text(name: object) -> str:
    """A process name as text: a name that is not a string (an error of its own) as shown."""
    return name if isinstance(name, str) else shown(name)


def name_error(name: object) -> Problem | None:
    """Why `name` cannot name a process (prodserver.E013), or None when it can."""
    if not isinstance(name, str):
        return Problem(
            NAME_CHECK,
            f"Process {shown(name)}: a process name must be a string, got {type(name).__name__}.",
            hint=f'Write it as a string, such as "{shown(name)}"; {NAME_RULE}.',
            process=name_text(name),
        )
    if NAME_PATTERN.fullmatch(name) and len(name) <= MAX_NAME_LENGTH:
        return None
    suggestion = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:MAX_NAME_LENGTH] or "web"
    return Problem(
        NAME_CHECK,
        f"Process {name!r}: the name cannot be used: {NAME_RULE}. It becomes a word of a "
        f"command line, a unit or program name and a folder name.",
        hint=f"Rename it, such as {suggestion!r}.",
        process=name,
    )


def read_processes() -> tuple[dict[str, ProcessSpec], list[Problem]]:
    """Every well-formed process, and a problem for each one that is not."""
    configuration = read_configuration()
    return dict(configuration.specs), list(configuration.problems)


def get_process(name: str) -> ProcessSpec:
    """The process called `name`, or an error that lists the configured names."""
    return read_configuration().get(name)


def problem_error(problem: Problem) -> ProdserverError:
    return ProdserverError(problem.message + (f"\nHint: {problem.hint}" if problem.hint else ""))


def problems_error(problems: Sequence[Problem]) -> ProdserverError:
    """Every problem in one error, each with its hint: one round of fixes, not several."""
    return ProdserverError("\n".join(str(problem_error(problem)) for problem in problems))


def nothing_configured() -> ProdserverError:
    return ProdserverError(f"No process is configured: {SETTING} is empty or not set.")


def configured_names() -> list[str]:
    from django.conf import settings

    raw = getattr(settings, SETTING, {})
    return [name_text(name) for name in raw] if isinstance(raw, Mapping) else []


class _DefinitionError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _fail(check_id: str, name: str, message: str, hint: str | None = None) -> _DefinitionError:
    return _DefinitionError(Problem(check_id, f"Process '{name}': {message}", hint, name))


def _read_process(name: str, definition: object) -> tuple[ProcessSpec | None, list[Problem]]:
    """The spec and every problem of the definition, each key's own.

    The spec is None when BACKEND or ARGS cannot be read; a key that cannot be read gets
    its default in it (the spec is then for the checks only).
    """
    if not isinstance(definition, Mapping):
        return None, [
            _fail(
                "prodserver.E002",
                name,
                f"the definition must be a dict, got {type(definition).__name__}.",
                hint='{"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"}',
            ).problem
        ]
    problems: list[Problem] = []

    def read(reader: Any, default: Any) -> Any:
        try:
            return reader(name, definition)
        except _DefinitionError as error:
            problems.append(error.problem)
            return default

    read(_read_keys, None)
    backend = read(_read_backend, _UNREADABLE)
    args = read(_read_args, _UNREADABLE)
    spec_fields = {
        "app": read(_read_app, None),
        "env": read(_read_env, {}),
        "restart": read(_read_restart, DEFAULT_RESTART),
        "stop_timeout": read(_read_stop_timeout, DEFAULT_STOP_TIMEOUT),
        "stop_signal": read(_read_stop_signal, DEFAULT_STOP_SIGNAL),
        "health": read(_read_health, HealthCheck()),
        "resources": read(_read_resources, Resources()),
        "dev": read(_read_dev, None),
        "in_development": definition.get("DEV", True) is not False,
    }
    if backend is _UNREADABLE or args is _UNREADABLE:
        return None, problems
    return ProcessSpec(name=name, backend=backend, args=args, **spec_fields), problems


# A key whose value cannot be read, where no default can stand in for it.
_UNREADABLE = object()


def _read_keys(name: str, definition: Mapping[str, Any]) -> None:
    unknown = [key for key in definition if key not in KNOWN_KEYS]
    if unknown:
        key = unknown[0] if isinstance(unknown[0], str) else shown(unknown[0])
        raise _fail(
            "prodserver.E006",
            name,
            f"unknown key {key!r}{did_you_mean(key, KNOWN_KEYS, quote=chr(39))}. "
            f"A definition takes {', '.join(KNOWN_KEYS)}.",
        )


def _read_backend(name: str, definition: Mapping[str, Any]) -> str:
    backend = definition.get("BACKEND")
    if not backend or not isinstance(backend, str):
        problem = (
            "BACKEND is missing"
            if backend is None or backend == ""
            else f"BACKEND must be a string, got {shown(backend)}"
        )
        raise _fail(
            "prodserver.E003",
            name,
            f"{problem}; it names the server that runs this process.",
            hint='"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"',
        )
    return backend


def _read_app(name: str, definition: Mapping[str, Any]) -> str | None:
    app = definition.get("APP")
    if app is not None and not isinstance(app, str):
        raise _fail("prodserver.E005", name, f"APP must be a dotted path string, got {shown(app)}.")
    return app


def _read_args(
    name: str, definition: Mapping[str, Any], key: str = "ARGS"
) -> Mapping[str, Any] | tuple[str, ...]:
    args = definition.get("ARGS", {})
    if args is None:
        return {}
    if isinstance(args, Mapping):
        keys = [name for name in args if not isinstance(name, str)]
        if keys:
            raise _fail(
                "prodserver.E005",
                name,
                f"{key} keys are option names (strings), got {shown(keys[0])}.",
                hint='"ARGS": {"bind": "0.0.0.0:8000", "workers": 4}',
            )
        return dict(args)
    if isinstance(args, str):
        try:
            return tuple(shlex.split(args))
        except ValueError as error:  # an unclosed quote, or a backslash at the end
            raise _fail(
                "prodserver.E005",
                name,
                f"{key} is split into words as a shell would, and {args!r} cannot be: "
                f"{str(error)[0].lower()}{str(error)[1:]}.",
                hint=f"Close the quote, or write {key} as a list of words or a dict of options.",
            ) from None
    if isinstance(args, (list, tuple)) and all(isinstance(item, str) for item in args):
        return tuple(args)
    raise _fail(
        "prodserver.E005",
        name,
        f"{key} must be a dict of options (or a list of argv strings), got {shown(args)}.",
        hint='"ARGS": {"bind": "0.0.0.0:8000", "workers": 4}',
    )


def _read_env(name: str, definition: Mapping[str, Any], key: str = "ENV") -> dict[str, str]:
    env = definition.get("ENV") or {}
    if not isinstance(env, Mapping):
        raise _fail(
            "prodserver.E005",
            name,
            f"{key} must be a dict of environment variable to value, got {shown(env)}.",
            hint='"ENV": {"DJANGO_LOG_LEVEL": "info"}',
        )
    values = {}
    for variable, value in env.items():
        if (
            not isinstance(variable, str)
            or not variable
            or "=" in variable
            or not _representable(variable)
        ):
            raise _fail(
                "prodserver.E005",
                name,
                f"{key} has a bad variable name {shown(variable)}: a name is a non-empty string "
                f"without '=', a NUL character or a lone surrogate.",
                hint='"ENV": {"DJANGO_LOG_LEVEL": "info"}',
            )
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _fail(
                "prodserver.E005",
                name,
                f"{key}[{variable!r}] must be a string or a number, got "
                f"{'a ' + type(value).__name__ if sensitive(variable) else shown(value)}.",
            )
        text = value if isinstance(value, str) else option_number(value)
        if text is None:
            raise _fail(
                "prodserver.E005",
                name,
                f"{key}[{variable!r}] is a number larger than a 64-bit integer "
                f"({LARGEST_OPTION_NUMBER}), got {shown(value)}.",
                hint="Write the value as a string if it is meant.",
            )
        if not _representable(text):
            raise _fail(
                "prodserver.E005",
                name,
                f"{key}[{variable!r}] cannot be set in an environment: a value holds no NUL "
                f"character and no lone surrogate, got {shown(value)}.",
                hint="Remove the character, or set the variable outside the settings.",
            )
        values[variable] = text
    return values


def _representable(text: str) -> bool:
    """Whether an environment (bytes, without NUL) can hold `text`, written as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _read_restart(name: str, definition: Mapping[str, Any]) -> str:
    restart = definition.get("RESTART", DEFAULT_RESTART)
    if restart not in RESTART_POLICIES:
        written = restart if isinstance(restart, str) else ""
        hint = did_you_mean(written, RESTART_POLICIES, quote=chr(39)) if written else ""
        raise _fail(
            "prodserver.E005",
            name,
            f"RESTART must be one of {', '.join(map(repr, RESTART_POLICIES))}, got "
            f"{shown(restart)}{hint}.",
        )
    return str(restart)


def _read_stop_timeout(name: str, definition: Mapping[str, Any]) -> float:
    timeout = definition.get("STOP_TIMEOUT", DEFAULT_STOP_TIMEOUT)
    number = isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
    # An int is compared before float() turns it into one: float(10**400) overflows.
    if not number or not (0 < timeout <= MAX_STOP_TIMEOUT) or not math.isfinite(timeout):
        raise _fail(
            "prodserver.E005",
            name,
            f"STOP_TIMEOUT must be a number of seconds greater than 0 and at most "
            f"{MAX_STOP_TIMEOUT} (a day), got {shown(timeout)}.",
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
            f"got {shown(value)}.",
        )
    return text


def _read_dev(name: str, definition: Mapping[str, Any]) -> DevOverride | None:
    dev = definition.get("DEV")
    if dev is None or dev is False:
        return None
    example = '"DEV": {"BACKEND": "...", "ARGS": {...}}, or "DEV": False'
    if not isinstance(dev, Mapping):
        raise _fail(
            "prodserver.E005",
            name,
            f"DEV must be a dict of what `manage.py devserver` runs instead ("
            f"{', '.join(DEV_KEYS)}), or False to leave the process out of development; "
            f"got {shown(dev)}.",
            hint=example,
        )
    unknown = [key for key in dev if key not in DEV_KEYS]
    if unknown:
        key = unknown[0] if isinstance(unknown[0], str) else shown(unknown[0])
        raise _fail(
            "prodserver.E005",
            name,
            f"DEV has an unknown key {key!r}{did_you_mean(key, DEV_KEYS, quote=chr(39))}. "
            f"DEV takes {', '.join(DEV_KEYS)}; the other keys apply in development too.",
            hint=example,
        )
    backend = dev.get("BACKEND")
    if backend is not None and (not backend or not isinstance(backend, str)):
        raise _fail(
            "prodserver.E005",
            name,
            f"DEV's BACKEND must be the dotted path of a backend class, got {shown(backend)}.",
            hint='"DEV": {"BACKEND": '
            '"django_prodserver.backends.dev.django_runserver.DjangoRunserver"}',
        )
    return DevOverride(
        backend=backend,
        args=_read_args(name, dev, "DEV's ARGS") if "ARGS" in dev else None,
        env=_read_env(name, dev, "DEV's ENV"),
    )


def _read_resources(name: str, definition: Mapping[str, Any]) -> Resources:
    resources, problems = read_resources(definition.get("RESOURCES"))
    if problems:
        raise _fail("prodserver.E005", name, "; ".join(problems) + ".", hint=RESOURCES_EXAMPLE)
    return resources


def _read_health(name: str, definition: Mapping[str, Any]) -> HealthCheck:
    health, problems = read_health(definition.get("HEALTH"))
    if problems:
        raise _fail("prodserver.E005", name, "; ".join(problems) + ".", hint=HEALTH_EXAMPLE)
    return health
