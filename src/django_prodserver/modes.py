"""The modes of `manage.py prodserver`, one function each, from a typed `Invocation`.

`MODES` maps each mode of invocation.py's MODE_RULES to its function: `--list`,
`--probe`, `--export`, `--release`, and a start, which runs one process, runs several
together, or prints their lines (`--dry-run`). The checks of PRODUCTION_PROCESSES run
before a start and a release, with the plans they report on handed to them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError

from django_prodserver.checks import run_checks, start_scope
from django_prodserver.choosing import Chosen, choose, chosen_release_steps
from django_prodserver.compat.kinds import check_kind
from django_prodserver.env_files import LoadedEnv, read_for_command
from django_prodserver.env_files import dry_run_lines as env_dry_run_lines
from django_prodserver.environment import APPLIED, apply_process_environment
from django_prodserver.invocation import Invocation
from django_prodserver.lifecycle.watchdog import check_the_runner_lives
from django_prodserver.listing import broken_rows, format_table, process_table
from django_prodserver.planning import PlannedProcess, plan_chosen, plan_process
from django_prodserver.processes import Configuration, concerns
from django_prodserver.release import is_release, run_release_steps
from django_prodserver.socket_handover import serve_inherited_sockets, take_sockets

Mode = Callable[[Invocation, Configuration, BaseCommand], None]


def list_processes(
    invocation: Invocation, configuration: Configuration, command: BaseCommand
) -> None:
    """`--list [NAME...]`: the table of the processes; an error if one cannot start."""
    rows = process_table(list(invocation.names), configuration)
    command.stdout.write(format_table(rows))
    broken = broken_rows(rows)
    if broken:
        raise CommandError(
            f"{', '.join(broken)}: cannot start as configured (`manage.py check` says why "
            f"and what to fix)."
        )


def answer_probe(
    invocation: Invocation, configuration: Configuration, command: BaseCommand
) -> None:
    """`--probe NAME`: whether the running process answers as a healthy one does."""
    from django_prodserver.liveness.probe import probe

    assert invocation.probe is not None
    spec = configuration.get(invocation.probe)
    command.stdout.write(probe(plan_process(spec, env=spec.env)))


def export(invocation: Invocation, configuration: Configuration, command: BaseCommand) -> None:
    """`--export FORMAT [NAME...]`: the files an engine needs."""
    # Imported here: a process that starts needs none of the exports, and a worker run in
    # this interpreter would carry them (and the template engine) for its whole life.
    from django_prodserver.exports.writing import run_export

    assert invocation.export is not None
    run_export(
        configuration, invocation.names, invocation.export, invocation.django, command.stdout
    )


def release(invocation: Invocation, configuration: Configuration, command: BaseCommand) -> None:
    """`--release [NAME...]`: the release steps, in order, each to its end."""
    check_broken_definitions(invocation, configuration, command)
    env = read_for_command(invocation.env_files)
    for line in env_dry_run_lines(env) if invocation.dry_run else env.summary():
        command.stderr.write(line)
    steps = chosen_release_steps(configuration, invocation.names)
    planned = plan_chosen(Chosen(tuple(steps), together=False, django=invocation.django))
    if not invocation.skip_checks:
        run_checks(command, start_scope(planned, configuration))
    if invocation.dry_run:
        command.stdout.write("\n".join(process.ready()[1].command_line() for process in planned))
        return
    for process in planned:
        process.ready()
    status = run_release_steps(planned)
    if status:
        sys.exit(status)


def start(invocation: Invocation, configuration: Configuration, command: BaseCommand) -> None:
    """`prodserver [NAME...]`, `--all`, `--dry-run`: plan and check, then one of the three."""
    check_broken_definitions(invocation, configuration, command)
    # Before the processes are chosen and planned: a file may set PORT or WEB_CONCURRENCY.
    env = read_for_command(invocation.env_files)
    chosen = choose(configuration, invocation)
    say_which_one(invocation, configuration, chosen, command)
    # Taken before anything imports a server: Twisted removes systemd's variables.
    inherited = None if chosen.together else take_sockets(chosen.names[0])
    if not chosen.together and not invocation.dry_run:
        say_env_files(env, command)
        kept = inherited.variables() if inherited else None
        apply_process_environment(chosen.processes[0], env.added, keep=kept)
    planned = plan_chosen(chosen)
    refuse_typed_options(chosen, planned)
    if inherited is not None and planned[0].error is None:
        planned[0], handover = serve_inherited_sockets(planned[0], inherited)
        command.stderr.write(handover)
    for process in planned:
        # Run together, the release steps run first whatever the command's kind.
        if process.backend is not None and not (chosen.together and is_release(process)):
            check_kind(process.backend, invocation.kind)
    if not invocation.skip_checks:
        run_checks(command, start_scope(planned, configuration))
    if invocation.dry_run:
        for line in env_dry_run_lines(env):
            command.stderr.write(line)
        dry_run(chosen, planned, command)
    elif chosen.together:
        run_together(chosen, planned, env.summary(), invocation.log_format)
    else:
        start_one(invocation, planned, command)


def dry_run(chosen: Chosen, planned: list[PlannedProcess], command: BaseCommand) -> None:
    """The line each process runs, as a person could type it."""
    if chosen.together:
        from django_prodserver.runner.together import dry_run_lines

        command.stdout.write("\n".join(dry_run_lines(planned, chosen.copies)))
        return
    [process] = planned
    command.stdout.write(process.ready()[1].command_line())


def run_together(
    chosen: Chosen, planned: list[PlannedProcess], notes: list[str], log_format: str | None
) -> None:
    """Several processes (or `--all`): this process becomes their runner."""
    # Imported here, like the exports: a process that starts alone needs none of it.
    from django_prodserver.runner.together import run_together as become_their_runner

    become_their_runner(chosen, planned, notes, log_format)


def say_env_files(env: LoadedEnv, command: BaseCommand) -> None:
    """Which env files were read, said once: not again by the start that applies them."""
    if APPLIED not in os.environ:
        for line in env.summary():
            command.stderr.write(line)


def start_one(invocation: Invocation, planned: list[PlannedProcess], command: BaseCommand) -> None:
    """One process in the foreground: most backends become the server (same PID)."""
    [process] = planned
    backend, plan = process.ready()
    if invocation.django.verbosity >= 2:
        command.stderr.write(f"Starting '{process.name}': {plan.command_line()}")
    check_the_runner_lives(process.name)
    status = backend.run(plan)
    if status:
        sys.exit(status)


def reload_runners(
    invocation: Invocation, configuration: Configuration, command: BaseCommand
) -> None:
    """`--reload`: SIGHUP to each running runner of this project (see runner/registry.py)."""
    from django_prodserver.runner.reload_command import reload_running

    command.stdout.write(reload_running())


MODES: dict[str, Mode] = {
    "reload": reload_runners,
    "list": list_processes,
    "probe": answer_probe,
    "export": export,
    "release": release,
    "start": start,
}


def check_broken_definitions(
    invocation: Invocation, configuration: Configuration, command: BaseCommand
) -> None:
    """A definition of the wrong shape among those named (any, with no name) is reported
    by the checks, as everywhere else, before anything else is said of it."""
    names = list(invocation.names)
    relevant = [problem for problem in configuration.problems if concerns(problem, names)]
    if relevant and not invocation.skip_checks:
        # An empty set: the setting itself is broken (not a dict).
        broken = {problem.process for problem in relevant if problem.process is not None}
        run_checks(command, start_scope([], configuration, names=broken))


def say_which_one(
    invocation: Invocation, configuration: Configuration, chosen: Chosen, command: BaseCommand
) -> None:
    """With no name, which process starts, and why that one."""
    [first, *_] = chosen.processes
    if first.name not in configuration.specs:
        from django_prodserver.task_workers import zero_configuration_notice

        command.stderr.write(zero_configuration_notice(first))
    elif not invocation.names and not invocation.every and len(configuration.specs) > 1:
        command.stderr.write(
            f"No process named: starting '{chosen.names[0]}', the first configured"
            f"{f' {invocation.kind} process' if invocation.kind else ''} "
            f"(of {', '.join(configuration.specs)})."
        )


def refuse_typed_options(chosen: Chosen, planned: list[PlannedProcess]) -> None:
    """An error in the options typed after the name is the command's error, not a check's.

    Only when the plan failed: the process is planned again without them, to tell.
    """
    [process] = planned if len(planned) == 1 else [None]
    if process is None or process.error is None or not chosen.overrides:
        return
    if plan_process(process.spec, env=process.spec.env).error is None:
        raise process.error
