"""One `prodserver` command, worked out once: the processes it means and the options given.

The management command builds an `Invocation` from what was typed, and the library
functions (start, dry-run, together, list, export) take it from there.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django_prodserver.compat.kinds import KIND_COMMANDS, KIND_NAMES
from django_prodserver.errors import ProdserverError
from django_prodserver.loading import import_backend_class, load_backend
from django_prodserver.processes import (
    NAME_CHECK,
    Configuration,
    ProcessSpec,
    nothing_configured,
    problems_error,
)
from django_prodserver.task_workers import zero_configuration_worker

# Django's own flags that a child of the runner is given as the runner was.
PASSED_FLAGS = ("traceback", "no_color", "force_color")


@dataclass(frozen=True)
class DjangoOptions:
    """The options every Django command takes, as this command was given them."""

    settings: str | None = None
    pythonpath: str | None = None
    verbosity: int = 1
    traceback: bool = False
    no_color: bool = False
    force_color: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DjangoOptions:
        return cls(
            settings=options.get("settings") or None,
            pythonpath=options.get("pythonpath") or None,
            verbosity=int(options.get("verbosity", 1)),
            traceback=bool(options.get("traceback")),
            no_color=bool(options.get("no_color")),
            force_color=bool(options.get("force_color")),
        )

    def line_environment(self) -> dict[str, str]:
        """What a shell needs set to run a planned line as this command runs it."""
        env = {}
        if self.settings:
            env["DJANGO_SETTINGS_MODULE"] = self.settings
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(
                path for path in (self.pythonpath, os.environ.get("PYTHONPATH")) if path
            )
        return env

    def settings_arguments(self) -> list[str]:
        """`--settings=...`, `--pythonpath=...`: for a `manage.py` started elsewhere."""
        return [
            f"--{name}={value}"
            for name, value in (("settings", self.settings), ("pythonpath", self.pythonpath))
            if value
        ]

    def arguments(self) -> list[str]:
        """This command's Django options, for another `manage.py` command."""
        argv = self.settings_arguments()
        if self.verbosity != 1:
            argv.append(f"--verbosity={self.verbosity}")
        argv.extend("--" + flag.replace("_", "-") for flag in PASSED_FLAGS if getattr(self, flag))
        return argv


@dataclass(frozen=True)
class Invocation:
    """The processes one command starts (or prints), and what was typed for them."""

    processes: tuple[ProcessSpec, ...]
    # Together under the runner: several names, or --all.
    together: bool
    # The server options typed after the name: they replace the configured ones.
    overrides: tuple[str, ...] = ()
    django: DjangoOptions = DjangoOptions()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.processes)


def invocation(
    configuration: Configuration,
    names: Sequence[str],
    every: bool,
    overrides: Sequence[str],
    django: DjangoOptions,
    kind: str | None = None,
) -> Invocation:
    """The processes `prodserver NAME...` (or `--all`, or no name) means.

    `kind` is that of `manage.py server` ("web") or `manage.py worker` ("worker"): with
    no name, the first configured process of that kind; `--all`, every one of that kind.
    """
    if every and names:
        raise ProdserverError(
            f"Give process names or --all, not both (got --all and {' '.join(names)})."
        )
    bad_names = [problem for problem in configuration.problems if problem.id == NAME_CHECK]
    if bad_names:
        raise problems_error(bad_names)
    if every:
        processes = configuration.every()
        if kind is not None:
            processes = [spec for spec in processes if load_backend(spec).kind == kind]
            if not processes:
                raise ProdserverError(f"No {KIND_NAMES[kind]} process is configured.")
    elif names:
        processes = configuration.chosen(names)
    else:
        processes = [first_process(configuration, kind)]
    # `prodserver web web` runs one process, under the runner all the same.
    together = every or len(names) > 1
    if together:
        processes = with_release_steps(configuration, processes)
    if together and overrides:
        raise ProdserverError(
            f"Options typed after the names ({' '.join(overrides)}) are for one "
            f"process; with several, set them in each process's ARGS."
        )
    for word in overrides:
        if "\x00" in word or not _encodable(word):
            raise ProdserverError(
                f"The option {word!r} typed after the name cannot be passed to a process: "
                f"a command line word holds no NUL character and no lone surrogate."
            )
    return Invocation(tuple(processes), together, tuple(overrides), django)


def with_release_steps(
    configuration: Configuration, processes: Sequence[ProcessSpec]
) -> list[ProcessSpec]:
    """Every configured release step first, in the order of the setting, then the others.

    Processes run together start only once the release steps have succeeded, as on a
    platform that runs a release phase before it starts the new processes.
    """
    steps = release_specs(configuration)
    return [*steps, *(spec for spec in processes if spec not in steps)]


def chosen_release_steps(configuration: Configuration, names: Sequence[str]) -> list[ProcessSpec]:
    """The release steps `prodserver --release [NAME...]` runs: the named, or every one."""
    from django_prodserver.backends.release import ReleaseCommand

    backend = f"{ReleaseCommand.__module__}.{ReleaseCommand.__name__}"
    steps = release_specs(configuration)
    if names:
        chosen = configuration.chosen(names)
        others = [spec.name for spec in chosen if spec not in steps]
        if others:
            raise ProdserverError(
                f"{', '.join(others)}: not a release step (its BACKEND is not {backend}); "
                f"`--release` runs release steps only. Start it with `manage.py prodserver "
                f"{others[0]}`."
            )
        steps = [spec for spec in steps if spec in chosen]
    if not steps:
        raise ProdserverError(
            f"No release step is configured. A release step is a process whose BACKEND "
            f'is {backend}, such as "migrate": {{"BACKEND": "{backend}", "ARGS": '
            f'["migrate", "--noinput"]}}.'
        )
    return steps


def release_specs(configuration: Configuration) -> list[ProcessSpec]:
    """The configured processes whose BACKEND is a release step, in the order of the setting."""
    return [spec for spec in configuration.specs.values() if is_release_spec(spec)]


def is_release_spec(spec: ProcessSpec) -> bool:
    from django_prodserver.backends.release import ReleaseCommand

    try:
        backend_class = import_backend_class(spec.name, spec.backend)
    except ProdserverError:
        return False  # reported where the process is planned or checked
    return isinstance(backend_class, type) and issubclass(backend_class, ReleaseCommand)


def _encodable(word: str) -> bool:
    try:
        os.fsencode(word)
    except UnicodeEncodeError:
        return False
    return True


def first_process(configuration: Configuration, kind: str | None) -> ProcessSpec:
    """With no name: the first configured process (of `kind`), as django-prodserver 3.0 did."""
    specs = list(configuration.specs.values())
    if kind is not None:
        specs = [spec for spec in specs if load_backend(spec).kind == kind]
    if not specs and kind == "worker":
        zero_configuration = zero_configuration_worker(configuration.names())
        if zero_configuration is not None:
            return zero_configuration
    if not specs:
        if kind is not None and configuration.specs:
            raise ProdserverError(
                f"No {KIND_NAMES[kind]} process is configured; `manage.py "
                f"{KIND_COMMANDS[kind]}` starts only those (`manage.py prodserver NAME` "
                f"starts any)."
            )
        raise nothing_configured()
    return specs[0]


def split_server_args(
    tokens: Sequence[str], parser: argparse.ArgumentParser, process_names: Collection[str]
) -> tuple[list[str], list[str]]:
    """Split `web --workers=8 -v 2 -k gevent` into Django's and the server's tokens.

    Options the command itself knows (`--settings`, `-v`, `--dry-run`, ...) stay with
    Django; every other option goes to the server, and so does everything after
    `--`. A bare word after a server option without `=` is that option's value,
    unless it names a configured process.
    """
    own = parser._option_string_actions
    django_tokens: list[str] = []
    server_tokens: list[str] = []
    remaining = list(tokens)
    server_value_expected = False
    while remaining:
        token = remaining.pop(0)
        if token == "--":
            server_tokens.extend(remaining)
            break
        name = token.split("=", 1)[0]
        if token.startswith("-") and _is_own(name, token, own):
            django_tokens.append(token)
            action = own.get(name)
            if action is not None and action.nargs != 0 and "=" not in token and remaining:
                django_tokens.append(remaining.pop(0))
            server_value_expected = False
        elif token.startswith("-") and len(token) > 1:
            server_tokens.append(token)
            server_value_expected = "=" not in token
        elif server_value_expected and token not in process_names:
            server_tokens.append(token)
            server_value_expected = False
        else:
            django_tokens.append(token)
            server_value_expected = False
    return django_tokens, server_tokens


def _is_own(name: str, token: str, own: dict[str, argparse.Action]) -> bool:
    if name in own:
        return True
    # Short options written together with their value: `-v2`.
    return not token.startswith("--") and token[:2] in own and own[token[:2]].nargs != 0
