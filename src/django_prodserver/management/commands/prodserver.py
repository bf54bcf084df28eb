"""`manage.py prodserver NAME`: start a process from PRODUCTION_PROCESSES in the foreground."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_prodserver.backends.loading import load_backend
from django_prodserver.checks import checking_for_a_start
from django_prodserver.command_line import split_server_args
from django_prodserver.environment import apply_process_environment, line_environment
from django_prodserver.errors import ProdserverError
from django_prodserver.exports.flags import add_export_arguments, reject_export_flags
from django_prodserver.listing import format_table, process_table
from django_prodserver.processes import (
    configured_names,
    get_process,
    nothing_configured,
    read_processes,
)
from django_prodserver.runner.runner_death import stop_with_the_runner


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
            "--list",
            action="store_true",
            help="List the configured processes (or the named ones) and exit.",
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
            self.stdout.write(format_table(process_table(options["names"])))
            return
        if options["export"]:
            # Imported here, like the runner below: a process that starts needs neither,
            # and a worker run in this interpreter would carry them for its whole life.
            from django_prodserver.exports.command import run_export

            run_export(options["names"], options, self.stdout)
            return
        reject_export_flags(options)
        together = options["all"] or len(options["names"]) > 1
        if not together and not options["dry_run"]:
            apply_environment_of(options["names"])
        if not options["skip_checks"]:
            with checking_for_a_start(None if options["all"] else options["names"]):
                self.check(tags=["prodserver"])
        if together:
            self._run_together(options)
            return
        name = self._single_name(options["names"])
        spec = get_process(name)
        backend = load_backend(spec)
        plan = backend.plan(self.server_args, env={**line_environment(options), **spec.env})
        if options["dry_run"]:
            self.stdout.write(plan.command_line())
            return
        if options["verbosity"] >= 2:
            self.stderr.write(f"Starting '{name}': {plan.command_line()}")
        stop_with_the_runner(name, spec.stop_signal_number)
        status = backend.run(plan)
        if status:
            sys.exit(status)

    def _run_together(self, options: dict[str, Any]) -> None:
        from django_prodserver.runner.command import dry_run_lines, run_together

        if self.server_args:
            raise CommandError(
                f"Options typed after the names ({' '.join(self.server_args)}) are for one "
                f"process; with several, set them in each process's ARGS."
            )
        if options["dry_run"]:
            self.stdout.write("\n".join(dry_run_lines(options["names"], options)))
            return
        run_together(options["names"], options)

    def _single_name(self, names: list[str]) -> str:
        if names:
            return names[0]
        specs, _ = read_processes()
        if len(specs) == 1:
            return next(iter(specs))
        if not specs:
            raise nothing_configured()
        self.stderr.write(format_table(process_table()))
        raise CommandError(f"Several processes are configured; name one: {', '.join(specs)}.")


def apply_environment_of(names: list[str]) -> None:
    """Start again with the process's ENV set, when it is not (see environment.py)."""
    specs, _ = read_processes()
    name = names[0] if names else next(iter(specs), None) if len(specs) == 1 else None
    if name in specs:
        apply_process_environment(specs[name])
