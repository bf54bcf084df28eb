"""`manage.py prodserver NAME`: start a process from PRODUCTION_PROCESSES in the foreground."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_prodserver.errors import ProdserverError
from django_prodserver.exports.flags import add_export_arguments
from django_prodserver.invocation import Invocation, split_server_args
from django_prodserver.masking import mask_secrets
from django_prodserver.modes import MODES
from django_prodserver.processes import Configuration, read_configuration
from django_prodserver.runner.arguments import add_runner_arguments


class Command(BaseCommand):
    help = (
        "Start a production process defined in PRODUCTION_PROCESSES. Options typed after "
        "the name (or after --) are the server's own and replace the configured ones."
    )
    server_args: list[str] = []  # noqa: RUF012 - replaced per run, never mutated.
    # Only the checks of PRODUCTION_PROCESSES run before a start (see modes.py): the whole
    # set belongs in `manage.py check`, and a server's own command runs none.
    requires_system_checks: list[str] = []  # noqa: RUF012 - Django's own attribute.
    # The kind of process this command starts: any (`prodserver`), "web" (`server`) or
    # "worker" (`worker`).
    kind: str | None = None
    configuration: Configuration | None = None

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
            "--release",
            action="store_true",
            help="Run the release steps (the named ones, or every one) in order, and exit "
            "with the status of the first that fails.",
        )
        parser.add_argument(
            "--skip-checks", action="store_true", help="Skip the checks of PRODUCTION_PROCESSES."
        )
        parser.add_argument(
            "--probe",
            metavar="NAME",
            help="Exit 0 if the running process NAME answers as a healthy one does (a web "
            "process: its HEALTH check over HTTP; a worker: its framework's liveness), else 1.",
        )
        parser.add_argument(
            "--reload",
            action="store_true",
            help="Ask the runners of this project running now (started from another shell) "
            "to replace every process in turn, new code included, as SIGHUP to them does.",
        )
        add_runner_arguments(parser)
        add_export_arguments(parser)

    def run_from_argv(self, argv: list[str]) -> None:
        parser = self.create_parser(argv[0], argv[1])
        # Read once for the whole command: the names tell Django's options from the server's.
        self.configuration = read_configuration()
        names = self.configuration.names()
        django_args, self.server_args = split_server_args(argv[2:], parser, names)
        super().run_from_argv([*argv[:2], *django_args])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            invocation = Invocation.typed(options, self.server_args, self.kind)
            configuration = self.configuration or read_configuration()
            MODES[invocation.mode](invocation, configuration, self)
        except ProdserverError as error:
            # The one place every error of the command is shown: a message may quote a
            # value (a broker URL, an ENV value) that holds a secret.
            raise CommandError(mask_secrets(str(error))) from error
