"""`manage.py prodserver NAME`: start a process from PRODUCTION_PROCESSES in the foreground."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_prodserver.checks import checking_for_a_start
from django_prodserver.compat.kinds import check_kind
from django_prodserver.environment import apply_process_environment
from django_prodserver.errors import ProdserverError
from django_prodserver.exports.flags import (
    FORMAT_NAMES,
    add_export_arguments,
    reject_export_flags,
)
from django_prodserver.invocation import (
    DjangoOptions,
    Invocation,
    chosen_release_steps,
    invocation,
    split_server_args,
)
from django_prodserver.lifecycle.watchdog import check_the_runner_lives
from django_prodserver.listing import broken_rows, format_table, process_table
from django_prodserver.masking import mask_secrets
from django_prodserver.planning import PlannedProcess, plan_invocation, plan_process
from django_prodserver.processes import Configuration, concerns, read_configuration
from django_prodserver.release import is_release, run_release_steps


class Command(BaseCommand):
    help = (
        "Start a production process defined in PRODUCTION_PROCESSES. Options typed after "
        "the name (or after --) are the server's own and replace the configured ones."
    )
    server_args: list[str] = []  # noqa: RUF012 - replaced per run, never mutated.
    # Only the checks of PRODUCTION_PROCESSES run before a start (see _handle): the whole
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
            self._handle(options)
        except ProdserverError as error:
            # The one place every error of the command is shown: a message may quote a
            # value (a broker URL, an ENV value) that holds a secret.
            raise CommandError(mask_secrets(str(error))) from error

    def _handle(self, options: dict[str, Any]) -> None:
        refuse_blank_values(options)
        configuration = self.configuration or read_configuration()
        names = options["names"]
        if options["list"]:
            rows = process_table(names, configuration)
            self.stdout.write(format_table(rows))
            broken = broken_rows(rows)
            if broken:
                raise CommandError(
                    f"{', '.join(broken)}: cannot start as configured (`manage.py check` "
                    f"says why and what to fix)."
                )
            return
        if options["probe"]:
            self._probe(configuration, options)
            return
        if options["export"]:
            # Imported here, like the runner below: a process that starts needs neither,
            # and a worker run in this interpreter would carry them for its whole life.
            from django_prodserver.exports.writing import run_export

            run_export(configuration, names, options, self.stdout)
            return
        reject_export_flags(options)
        if options["release"]:
            self._release(configuration, options)
            return
        broken_names = broken_definitions(configuration, names)
        if broken_names is not None and not options["skip_checks"]:
            # A definition of the wrong shape is reported by the checks, as everywhere else.
            with checking_for_a_start([], configuration, names=broken_names):
                self.check(tags=["prodserver"])
        invocation = self.invocation(configuration, options)
        if not invocation.together and not options["dry_run"]:
            apply_process_environment(invocation.processes[0])
        planned = plan_invocation(invocation)
        refuse_typed_options(invocation, planned)
        for process in planned:
            # Run together, the release steps run first whatever the command's kind.
            if process.backend is not None and not (invocation.together and is_release(process)):
                check_kind(process.backend, self.kind)
        if not options["skip_checks"]:
            with checking_for_a_start(planned, configuration):
                self.check(tags=["prodserver"])
        if invocation.together:
            self._run_together(invocation, planned, options)
            return
        [process] = planned
        backend, plan = process.ready()
        if options["dry_run"]:
            self.stdout.write(plan.command_line())
            return
        if options["verbosity"] >= 2:
            self.stderr.write(f"Starting '{process.name}': {plan.command_line()}")
        check_the_runner_lives(process.name)
        status = backend.run(plan)
        if status:
            sys.exit(status)

    def _probe(self, configuration: Configuration, options: dict[str, Any]) -> None:
        from django_prodserver.liveness.probe import probe

        extra = [*options["names"], *(["--all"] if options["all"] else []), *self.server_args]
        if extra:
            raise ProdserverError(
                f"--probe asks one process, named as --probe NAME; leave out {' '.join(extra)}."
            )
        spec = configuration.get(options["probe"])
        self.stdout.write(probe(plan_process(spec, env=spec.env)))

    def invocation(self, configuration: Configuration, options: dict[str, Any]) -> Invocation:
        chosen = invocation(
            configuration,
            options["names"],
            every=options["all"],
            overrides=self.server_args,
            django=DjangoOptions.from_options(options),
            kind=self.kind,
        )
        [first, *_] = chosen.processes
        if first.name not in configuration.specs:
            from django_prodserver.task_workers import zero_configuration_notice

            self.stderr.write(zero_configuration_notice(first))
        elif not options["names"] and not options["all"] and len(configuration.specs) > 1:
            self.stderr.write(
                f"No process named: starting '{chosen.names[0]}', the first configured"
                f"{f' {self.kind} process' if self.kind else ''} "
                f"(of {', '.join(configuration.specs)})."
            )
        return chosen

    def _release(self, configuration: Configuration, options: dict[str, Any]) -> None:
        """`prodserver --release [NAME...]`: the release steps, in order, each to its end."""
        names = options["names"]
        if options["all"] or self.server_args:
            raise ProdserverError(
                "--release runs the release steps as configured: it takes their names "
                "(default: every one), not --all nor options typed after them."
            )
        broken_names = broken_definitions(configuration, names)
        if broken_names is not None and not options["skip_checks"]:
            with checking_for_a_start([], configuration, names=broken_names):
                self.check(tags=["prodserver"])
        steps = chosen_release_steps(configuration, names)
        planned = plan_invocation(
            Invocation(tuple(steps), together=False, django=DjangoOptions.from_options(options))
        )
        if not options["skip_checks"]:
            with checking_for_a_start(planned, configuration):
                self.check(tags=["prodserver"])
        if options["dry_run"]:
            self.stdout.write("\n".join(process.ready()[1].command_line() for process in planned))
            return
        for process in planned:
            process.ready()
        status = run_release_steps(planned)
        if status:
            sys.exit(status)

    def _run_together(
        self, invocation: Invocation, planned: list[PlannedProcess], options: dict[str, Any]
    ) -> None:
        from django_prodserver.runner.together import dry_run_lines, run_together

        if options["dry_run"]:
            self.stdout.write("\n".join(dry_run_lines(planned)))
            return
        run_together(invocation, planned)


# The options that name what the command does, and what each takes: a blank value is an
# error, not the option left out (`--export ""` once started the server).
MODE_OPTIONS = {
    "export": ("--export", f"a format, one of {', '.join(FORMAT_NAMES)}"),
    "probe": ("--probe", "the name of the process to ask"),
}


def refuse_blank_values(options: dict[str, Any]) -> None:
    for dest, (flag, what) in MODE_OPTIONS.items():
        value = options.get(dest)
        if isinstance(value, str) and not value.strip():
            raise ProdserverError(f"{flag} was given an empty value; it takes {what}.")


def refuse_typed_options(invocation: Invocation, planned: list[PlannedProcess]) -> None:
    """An error in the options typed after the name is the command's error, not a check's.

    Only when the plan failed: the process is planned again without them, to tell.
    """
    [process] = planned if len(planned) == 1 else [None]
    if process is None or process.error is None or not invocation.overrides:
        return
    if plan_process(process.spec, env=process.spec.env).error is None:
        raise process.error


def broken_definitions(configuration: Configuration, names: list[str]) -> set[str] | None:
    """The named (or, with no name, any) processes whose definition is broken; None: none is.

    An empty set: the setting itself is broken (not a dict).
    """
    relevant = [problem for problem in configuration.problems if concerns(problem, names)]
    if not relevant:
        return None
    return {problem.process for problem in relevant if problem.process is not None}
