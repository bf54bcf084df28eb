"""One `prodserver` command, worked out once: the processes it means and the options given.

The management command builds an `Invocation` from what was typed, and the library
functions (start, dry-run, together, list, export) take it from there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django_prodserver.errors import ProdserverError
from django_prodserver.processes import Configuration, ProcessSpec, nothing_configured

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
) -> Invocation:
    """The processes `prodserver NAME...` (or `--all`, or no name) means."""
    if every and names:
        raise ProdserverError(
            f"Give process names or --all, not both (got --all and {' '.join(names)})."
        )
    if every:
        processes = configuration.every()
    elif names:
        processes = configuration.chosen(names)
    else:
        processes = [only_process(configuration)]
    together = every or len(processes) > 1
    if together and overrides:
        raise ProdserverError(
            f"Options typed after the names ({' '.join(overrides)}) are for one "
            f"process; with several, set them in each process's ARGS."
        )
    return Invocation(tuple(processes), together, tuple(overrides), django)


class SeveralConfigured(ProdserverError):
    """No name, and more than one process to choose from."""


def only_process(configuration: Configuration) -> ProcessSpec:
    specs = list(configuration.specs.values())
    if len(specs) == 1:
        return specs[0]
    if not specs:
        raise nothing_configured()
    names = ", ".join(spec.name for spec in specs)
    raise SeveralConfigured(f"Several processes are configured; name one: {names}.")
