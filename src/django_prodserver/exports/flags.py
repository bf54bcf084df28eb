"""The flags of `prodserver --export`, apart from the exports themselves.

Every start of `prodserver` parses these flags; the exports (and the template engine
they render with) are imported only when one is asked for. What was typed of them
becomes an `ExportRequest`, the exports' one input from the command.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.core.management.base import CommandParser

FORMAT_NAMES = ("procfile", "systemd", "supervisor", "compose", "kubernetes", "dockerfile")


@dataclass(frozen=True)
class ExportFlag:
    """A flag that only an export reads: its option dest, and its help."""

    dest: str
    metavar: str
    help: str
    repeatable: bool = False
    # A switch: given or not, no value.
    switch: bool = False

    @property
    def flag(self) -> str:
        return "--" + self.dest.replace("_", "-")


EXPORT_FLAGS = (
    ExportFlag("output", "DIR", "Write the files into DIR instead of standard output."),
    ExportFlag(
        "project",
        "NAME",
        "Prefix of unit, program and resource names (default: the folder name of "
        "--working-directory, or of manage.py).",
    ),
    ExportFlag(
        "python",
        "PATH",
        "The Python that runs manage.py; a virtualenv's bin/python (default: this "
        "Python for systemd and supervisor, `python` for the others).",
    ),
    ExportFlag(
        "working_directory",
        "DIR",
        "Where manage.py is (default: manage.py's folder for systemd and supervisor, "
        "the image's WORKDIR for compose and kubernetes).",
    ),
    ExportFlag("image", "IMAGE", "The container image (default: PROJECT:latest)."),
    ExportFlag("run_as", "USER", "The user the processes run as."),
    ExportFlag(
        "environment_file",
        "PATH",
        "A file of NAME=value lines the processes read (default: .env where the secrets "
        "need one); repeatable: every file is kept, later ones win.",
        repeatable=True,
    ),
    ExportFlag(
        "dockerfile",
        "PATH",
        "The Dockerfile the compose services build their image from (relative to --context).",
    ),
    ExportFlag(
        "context",
        "DIR",
        "The folder compose builds the image in (default: the compose file's folder).",
    ),
    ExportFlag(
        "requirements",
        "FILE",
        "The dependency file the Dockerfile installs, relative to manage.py's folder: a "
        "requirements file, uv.lock or pyproject.toml (default: the first of requirements.txt, "
        "requirements/production.txt, uv.lock, pyproject.toml found there).",
    ),
    ExportFlag(
        "sandbox",
        "LEVEL",
        "strict (the default): each process with the least privilege it runs with: a "
        "sandboxed systemd unit, Kubernetes' restricted profile with a read-only root, a "
        "read-only Compose service without capabilities; off: none of it (see the deploy "
        "guides to relax one thing instead).",
    ),
    ExportFlag(
        "replicas",
        "NAME=N",
        "Run N copies of process NAME (supervisor, compose, kubernetes); repeatable.",
        repeatable=True,
    ),
    ExportFlag(
        "socket_activation",
        "",
        "systemd: a .socket unit per web process, which holds its address while the service "
        "restarts (no connection refused); not for granian, which binds its own.",
        switch=True,
    ),
)
# Option dest -> flag.
DEPLOYMENT_FLAGS = {flag.dest: flag.flag for flag in EXPORT_FLAGS}


def add_export_arguments(parser: CommandParser) -> None:
    group = parser.add_argument_group(
        "export", "Write the files an engine needs to run the processes (see the deploy guides)."
    )
    group.add_argument(
        "--export",
        metavar="FORMAT",
        help=f"Print (or, with --output, write) the files for one of: {', '.join(FORMAT_NAMES)}; "
        f"then exit. Names: only these processes (default: every one).",
    )
    for flag in EXPORT_FLAGS:
        if flag.switch:
            group.add_argument(flag.flag, help=flag.help, action="store_true")
        elif flag.repeatable:
            group.add_argument(
                flag.flag, metavar=flag.metavar, help=flag.help, action="append", default=[]
            )
        else:
            group.add_argument(flag.flag, metavar=flag.metavar, help=flag.help)


@dataclass(frozen=True)
class ExportRequest:
    """`--export FORMAT` and its flags as typed (None, or nothing: left out).

    A field per flag of EXPORT_FLAGS, named by its dest (a test holds them together).
    """

    format: str
    output: str | None = None
    project: str | None = None
    python: str | None = None
    working_directory: str | None = None
    image: str | None = None
    run_as: str | None = None
    environment_file: tuple[str, ...] = ()
    dockerfile: str | None = None
    context: str | None = None
    requirements: str | None = None
    sandbox: str | None = None
    replicas: tuple[str, ...] = ()
    socket_activation: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ExportRequest:
        """The request in the options Django parsed (their `export` names the format)."""
        given: dict[str, Any] = {}
        for flag in fields(cls)[1:]:
            value = options.get(flag.name)
            given[flag.name] = tuple(value or ()) if flag.name in REPEATABLE else value
        return cls(options["export"], **given)

    def value(self, dest: str) -> str | tuple[str, ...] | bool | None:
        """The value of the flag `dest` (a DEPLOYMENT_FLAGS key)."""
        value: str | tuple[str, ...] | bool | None = getattr(self, dest)
        return value


REPEATABLE = frozenset(flag.dest for flag in EXPORT_FLAGS if flag.repeatable)


def export_flags_given(options: Mapping[str, Any]) -> list[str]:
    """The export's flags that were typed (given empty too: `--output ""` was typed)."""
    return [
        flag
        for dest, flag in DEPLOYMENT_FLAGS.items()
        if options.get(dest) is not False and options.get(dest) not in (None, [])
    ]
