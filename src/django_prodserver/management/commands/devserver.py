"""`manage.py devserver [NAME ...]`: the project's processes, for development.

With runserver's arguments only (`devserver 8001`, `devserver 0.0.0.0:8000 --noreload`),
or where PRODUCTION_PROCESSES is empty, it is `manage.py runserver` (the one installed apps
provide: staticfiles', daphne's), as it always was.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from django.core.management import get_commands, load_command_class
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.commands.runserver import naiveip_re

from django_prodserver.checks import run_checks, start_scope
from django_prodserver.choosing import Chosen
from django_prodserver.development.devserver import (
    chosen_processes,
    dry_run_line,
    run_reloaded_worker,
    run_together,
    summary_line,
)
from django_prodserver.env_files import dry_run_lines as env_dry_run_lines
from django_prodserver.env_files import read_for_command
from django_prodserver.environment import APPLIED, apply_process_environment
from django_prodserver.errors import ProdserverError
from django_prodserver.invocation import DjangoOptions
from django_prodserver.lifecycle.watchdog import RUNNER_PID, check_the_runner_lives
from django_prodserver.planning import plan_chosen
from django_prodserver.processes import configured_names, read_configuration
from django_prodserver.runner.arguments import add_runner_arguments
from django_prodserver.runner.log_format import PLAIN
from django_prodserver.runner.runner_output import RunnerOutput


class Command(BaseCommand):
    help = (
        "Run the processes of PRODUCTION_PROCESSES for development: web processes on their "
        "development server, workers restarted when the code changes (no name: every process "
        "but the schedulers). With runserver's arguments instead (`devserver 8001`), it is "
        "runserver."
    )
    requires_system_checks: list[str] = []  # noqa: RUF012 - Django's own attribute.

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "names", nargs="*", metavar="NAME", help="The processes to run (none: every one)."
        )
        parser.add_argument(
            "--noreload",
            action="store_true",
            help="Run a worker without restarting it on code changes (what the reloader starts).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what each process runs, and exit."
        )
        parser.add_argument(
            "--skip-checks", action="store_true", help="Skip the checks of PRODUCTION_PROCESSES."
        )
        add_runner_arguments(parser, port=True)

    def run_from_argv(self, argv: list[str]) -> None:
        if self.means_runserver(argv):
            runserver = get_commands()["runserver"]
            command = (
                runserver
                if isinstance(runserver, BaseCommand)
                else load_command_class(runserver, "runserver")
            )
            command.run_from_argv([argv[0], "runserver", *argv[2:]])
            return
        super().run_from_argv(argv)

    def means_runserver(self, argv: list[str]) -> bool:
        """runserver's arguments only (an address, runserver's options), or no processes."""
        names = configured_names()
        if not names:
            return True
        parser = self.create_parser(argv[0], argv[1])
        try:
            known, unknown = parser.parse_known_args(argv[2:])
        except CommandError:
            return False  # reported by the parse that follows
        if unknown:
            return True  # runserver's own options: --nothreading, --ipv6, --nostatic...
        if not known.names:
            return bool(known.noreload)
        if all(name in names for name in known.names):
            return False
        [first, *rest] = known.names
        return not rest and bool(re.match(naiveip_re, first))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except ProdserverError as error:
            raise CommandError(str(error)) from error

    def _handle(self, options: dict[str, Any]) -> None:
        configuration = read_configuration()
        names = options["names"]
        skip_checks = options["skip_checks"]
        if not skip_checks and configuration.problems:
            run_checks(self, start_scope([], names=names or None))
        # Before the processes' forms: a file may set PORT, which their addresses read.
        env = read_for_command(options["env_file"] or ())
        processes, left_out = chosen_processes(configuration, names, options["port"])
        for reason in left_out:
            self.stderr.write(f"Left out of development: {reason}.")
        log_format = options["log_format"]
        together = len(processes) > 1 or log_format is not None
        first_start = not os.environ.get("RUN_MAIN") and APPLIED not in os.environ
        if options["dry_run"]:
            for line in env_dry_run_lines(env):
                self.stderr.write(line)
        elif first_start and not together:
            for line in env.summary():
                self.stderr.write(line)
        if not together and not options["dry_run"]:
            apply_process_environment(processes[0].spec, env.added)
        django = DjangoOptions.from_options(options)
        chosen = Chosen(tuple(process.spec for process in processes), together, (), django)
        planned = plan_chosen(chosen, {process.name: process.backend for process in processes})
        if not skip_checks:
            run_checks(self, start_scope(planned))
        pairs = list(zip(processes, planned, strict=True))
        for _, each in pairs:
            each.ready()
        if options["dry_run"]:
            self.stdout.write("\n".join(dry_run_line(*pair) for pair in pairs))
            return
        if together:
            overview = [
                "Development processes (Ctrl-C stops them all):",
                *(f"  {summary_line(*pair)}" for pair in pairs),
            ]
            # Said before the runner starts, as always; in json or raw, by the runner.
            if log_format in (None, PLAIN):
                for line in overview:
                    self.stderr.write(line)
                overview = []
            notes = (*env.summary(), *overview)
            run_together(processes, planned, django, RunnerOutput(log_format or PLAIN, notes))
        [(process, planned_one)] = pairs
        backend, plan = planned_one.ready()
        if process.reloaded_by_devserver and not options["noreload"]:
            check_the_runner_lives(process.name)
            sys.exit(run_reloaded_worker(process, django, dict(os.environ), sys.stderr))
        # Said once: not again by runserver's reloaded child, nor by a child of the runner.
        if not os.environ.get("RUN_MAIN") and RUNNER_PID not in os.environ:
            self.stderr.write(summary_line(process, planned_one))
        check_the_runner_lives(process.name)
        status = backend.run(plan)
        if status:
            sys.exit(status)
