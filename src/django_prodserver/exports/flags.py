"""The flags of `prodserver --export`, apart from the exports themselves.

Every start of `prodserver` parses these flags; the exports (and the template engine
they render with) are imported only when one is asked for.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from django_prodserver.errors import ProdserverError

FORMAT_NAMES = ("procfile", "systemd", "supervisor", "compose", "kubernetes")
# Option dest -> flag, for the flags that only an export reads.
DEPLOYMENT_FLAGS = {
    "output": "--output",
    "project": "--project",
    "python": "--python",
    "working_directory": "--working-directory",
    "image": "--image",
    "run_as": "--run-as",
    "environment_file": "--environment-file",
    "replicas": "--replicas",
}


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
    group.add_argument(
        "--output", metavar="DIR", help="Write the files into DIR instead of standard output."
    )
    group.add_argument(
        "--project",
        metavar="NAME",
        help="Prefix of unit, program and resource names (default: the folder name of "
        "--working-directory, or of manage.py).",
    )
    group.add_argument(
        "--python",
        metavar="PATH",
        help="The Python that runs manage.py; a virtualenv's bin/python (default: this "
        "Python for systemd and supervisor, `python` for the others).",
    )
    group.add_argument(
        "--working-directory",
        metavar="DIR",
        help="Where manage.py is (default: manage.py's folder for systemd and supervisor, "
        "the image's WORKDIR for compose and kubernetes).",
    )
    group.add_argument(
        "--image", metavar="IMAGE", help="The container image (default: PROJECT:latest)."
    )
    group.add_argument("--run-as", metavar="USER", help="The user the processes run as.")
    group.add_argument(
        "--environment-file",
        metavar="PATH",
        help="The file that holds the secret variables (default: .env where one is needed).",
    )
    group.add_argument(
        "--replicas",
        metavar="NAME=N",
        action="append",
        default=[],
        help="Run N copies of process NAME (supervisor, compose, kubernetes); repeatable.",
    )


def reject_export_flags(options: dict[str, Any]) -> None:
    """The export's flags without --export: an error rather than flags silently unused."""
    given = [flag for dest, flag in DEPLOYMENT_FLAGS.items() if options.get(dest)]
    if given:
        raise ProdserverError(
            f"{', '.join(given)}: only for --export FORMAT (one of {', '.join(FORMAT_NAMES)}); "
            f"a process that starts takes no such option."
        )
