"""`manage.py prodserver NAME`: start a process from PRODUCTION_PROCESSES in the foreground."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_prodserver.backends.loading import load_backend
from django_prodserver.command_line import split_server_args
from django_prodserver.errors import ProdserverError
from django_prodserver.exports.command import add_export_arguments, run_export
from django_prodserver.listing import format_table, process_table
from django_prodserver.processes import (
    configured_names,
    get_process,
    nothing_configured,
    read_processes,
)
from django_prodserver.runner.command import run_together


class Command(BaseCommand):
    help = (
        "Start a production process defined in PRODUCTION_PROCESSES. Options typed after "
        "the name (or after --) are the server's own and replace the configured ones."
    )
    server_args: list[str] = []  # noqa: RUF012 - replaced per run, never mutated.
    # Only the checks of PRODUCTION_PROCESSES run before a start (see _handle): the whole
    # set belongs in `manage.py check`, and a server's own command runs none.
    requires_system_checks: list[str] = []  # noqa: RUF012 - Django's own attribute.

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "names", nargs="*", metavar="NAME", help="The process to start (several: together)."
        )
        parser.add_argument(
            "--all", action="store_true", help="Run every configured process together."
        )
        parser.add_argument(
            "--list", action="store_true", help="List the configured processes and exit."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print the command line that runs the process, and exit.",
        )
        parser.add_argument(
            "--skip-checks", action="store_true", help="Skip the checks of PRODUCTION_PROCESSES."
        )
        add_export_arguments(parser)

    def run_from_argv(self, argv: list[str]) -> None:
        parser = self.create_parser(argv[0], argv[1])
        django_args, self.server_args = split_server_args(argv[2:], parser, configured_names())
        super().run_from_argv([*argv[:2], *django_args])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except ProdserverError as error:
            raise CommandError(str(error)) from error

    def _handle(self, options: dict[str, Any]) -> None:
        if options["list"]:
            self.stdout.write(format_table(process_table()))
            return
        if options["export"]:
            run_export(options["names"], options, self.stdout)
            return
        if not options["skip_checks"]:
            self.check(tags=["prodserver"])
        if options["all"] or len(options["names"]) > 1:
            sys.exit(run_together(options["names"], options))
        name = self._single_name(options["names"])
        backend = load_backend(get_process(name))
        plan = backend.plan(self.server_args, env=line_environment(options))
        if options["dry_run"]:
            self.stdout.write(plan.command_line())
            return
        if options["verbosity"] >= 2:
            self.stderr.write(f"Starting '{name}': {plan.command_line()}")
        status = backend.run(plan)
        if status:
            sys.exit(status)

    def _single_name(self, names: list[str]) -> str:
        if len(names) > 1:
            raise CommandError(
                f"Name one process to start, got {len(names)}: {' '.join(names)}. "
                f"Start each one with its own `prodserver NAME`."
            )
        if names:
            return names[0]
        specs, _ = read_processes()
        if len(specs) == 1:
            return next(iter(specs))
        if not specs:
            raise nothing_configured()
        self.stderr.write(format_table(process_table()))
        raise CommandError(f"Several processes are configured; name one: {', '.join(specs)}.")


def line_environment(options: dict[str, Any]) -> dict[str, str]:
    """What a shell needs set to run the planned line as this command runs it."""
    env = {}
    if options.get("settings"):
        env["DJANGO_SETTINGS_MODULE"] = options["settings"]
    if options.get("pythonpath"):
        env["PYTHONPATH"] = os.pathsep.join(
            path for path in (options["pythonpath"], os.environ.get("PYTHONPATH")) if path
        )
    return env
