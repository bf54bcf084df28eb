"""The processes a start, a dry run or a release means, chosen from the configuration.

`prodserver NAME...`, `--all` (every process, the release steps first) or no name (the
first configured one); `prodserver --release [NAME...]`, the release steps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django_prodserver.compat.kinds import KIND_COMMANDS, KIND_NAMES, of_kind
from django_prodserver.errors import ProdserverError
from django_prodserver.invocation import DjangoOptions, Invocation
from django_prodserver.loading import import_backend_class
from django_prodserver.port_per_process import base_port
from django_prodserver.processes import (
    NAME_CHECK,
    Configuration,
    ProcessSpec,
    nothing_configured,
    problems_error,
)
from django_prodserver.task_workers import zero_configuration_worker


@dataclass(frozen=True)
class Chosen:
    """The processes one command starts (or prints), and what was typed for them."""

    processes: tuple[ProcessSpec, ...]
    # Together under the runner: several names, or --all.
    together: bool
    # The server options typed after the name: they replace the configured ones.
    overrides: tuple[str, ...] = ()
    django: DjangoOptions = field(default_factory=DjangoOptions)
    # A formation's copies (`web=2`): NAME -> count, for the processes given one.
    copies: Mapping[str, int] = field(default_factory=dict)
    # Together: the base of the ports the web processes are given (port_per_process.py);
    # None gives none.
    base_port: int | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.processes)


def choose(configuration: Configuration, invocation: Invocation) -> Chosen:
    """The processes `prodserver NAME...` (or `--all`, or no name) means.

    The invocation's `kind` is that of `manage.py server` ("web") or `manage.py worker`
    ("worker"): with no name, the first configured process of that kind; `--all`, every
    one of that kind.
    """
    names, every, overrides, kind = (
        invocation.names,
        invocation.every,
        invocation.overrides,
        invocation.kind,
    )
    bad_names = [problem for problem in configuration.problems if problem.id == NAME_CHECK]
    if bad_names:
        raise problems_error(bad_names)
    if every:
        processes = of_kind(configuration.every(), kind)
        if not processes:
            assert kind is not None
            raise ProdserverError(f"No {KIND_NAMES[kind]} process is configured.")
    elif names:
        processes = configuration.chosen(names)
    else:
        processes = [first_process(configuration, kind)]
    # `prodserver web web` runs one process, under the runner all the same; so do `web=2`
    # and one process whose output --log-format asks the runner to write.
    together = (
        every
        or len(names) > 1
        or any(n > 1 for n in invocation.copies.values())
        or invocation.log_format is not None
    )
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
    base = base_port(invocation.port, os.environ) if together else None
    return Chosen(
        tuple(processes),
        together,
        tuple(overrides),
        invocation.django,
        dict(invocation.copies),
        base,
    )


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
    specs = of_kind(list(configuration.specs.values()), kind)
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
