"""The `--export FORMAT` part of `prodserver` (stub)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.management.base import CommandParser, OutputWrapper

from django_prodserver.errors import ProdserverError


def add_export_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--export", metavar="FORMAT", help="Write the files an engine needs, and exit."
    )


def run_export(names: Sequence[str], options: dict[str, Any], stdout: OutputWrapper) -> None:
    raise ProdserverError("Exporting is not built yet.")
