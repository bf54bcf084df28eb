"""The flags of `prodserver --export`, apart from the exports themselves.

Every start of `prodserver` parses these flags; the exports (and the template engine
they render with) are imported only when one is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.management.base import CommandParser

from django_prodserver.errors import ProdserverError

FORMAT_NAMES = ("procfile", "systemd", "supervisor", "compose", "kubernetes", "dockerfile")


@dataclass(frozen=True)
class ExportFlag:
    """A flag that only an export reads: its option dest, and its help."""

    dest: str
    metavar: str
    help: str
    repeatable: bool = False

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
        if flag.repeatable:
            group.add_argument(
                flag.flag, metavar=flag.metavar, help=flag.help, action="append", default=[]
            )
        else:
            group.add_argument(flag.flag, metavar=flag.metavar, help=flag.help)


def reject_export_flags(options: dict[str, Any]) -> None:
    """The export's flags without --export: an error rather than flags silently unused."""
    # Given empty too (`--output ""`): typed, so not silently left unused.
    given = [flag for dest, flag in DEPLOYMENT_FLAGS.items() if options.get(dest) not in (None, [])]
    if given:
        raise ProdserverError(
            f"{', '.join(given)}: only for --export FORMAT (one of {', '.join(FORMAT_NAMES)}); "
            f"a process that starts takes no such option."
        )
