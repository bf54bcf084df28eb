"""`prodserver web worker` and `prodserver --all`: the processes the runner starts, and how."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from django_prodserver.backends.gunicorn import GunicornServer, own_control_socket_environment
from django_prodserver.backends.loading import load_backend
from django_prodserver.environment import APPLIED, line_environment, this_command_prefix
from django_prodserver.errors import ProdserverError
from django_prodserver.processes import ProcessSpec, get_process, nothing_configured
from django_prodserver.processes import read_processes as read_all_processes
from django_prodserver.runner.child import ChildSpec
from django_prodserver.runner.printer import wants_colour
from django_prodserver.runner.runner_death import RUNNER_PID
from django_prodserver.runner.supervise import become_supervisor
from django_prodserver.shared_resources import (
    SharedResourceError,
    shared_listen_addresses,
    shared_resources,
)


def run_together(names: Sequence[str], options: dict[str, Any]) -> NoReturn:
    """Run the named processes together until they are asked to stop, then exit.

    This process becomes the supervisor (see supervise.py): the exit status is its.
    """
    specs = selected_processes(names, options)
    separate = separate_environments(specs)
    for env in separate.values():
        for directory in env.values():
            os.makedirs(directory, mode=0o700, exist_ok=True)
    children = [
        ChildSpec(
            name=spec.name,
            argv=tuple(child_command(spec.name, options)),
            env=child_environment(spec, separate.get(spec.name, {})),
            restart=spec.restart,
            stop_signal=spec.stop_signal_number,
            stop_timeout=spec.stop_timeout,
        )
        for spec in specs
    ]
    become_supervisor(children, wants_colour(options, sys.stdout.buffer))


def dry_run_lines(names: Sequence[str], options: dict[str, Any]) -> list[str]:
    """`NAME: line` for each process, the line being what its child runs."""
    specs = selected_processes(names, options)
    separate = separate_environments(specs)
    lines = []
    for spec in specs:
        env = {**line_environment(options), **separate.get(spec.name, {}), **spec.env}
        lines.append(f"{spec.name}: {load_backend(spec).plan(env=env).command_line()}")
    return lines


def selected_processes(names: Sequence[str], options: Mapping[str, Any]) -> list[ProcessSpec]:
    """The processes to run together, each checked to exist, none twice."""
    if options.get("all"):
        if names:
            raise ProdserverError(
                f"Give process names or --all, not both (got --all and {' '.join(names)})."
            )
        configured, problems = read_all_processes()
        for problem in problems:
            get_process(problem.process or "")  # raises the problem's own message
        if not configured:
            raise nothing_configured()
        specs = list(configured.values())
    else:
        specs = [get_process(name) for name in dict.fromkeys(names)]
    for clash in [*shared_resources(specs), *shared_listen_addresses(specs)]:
        raise SharedResourceError(f"{clash.message}\nHint: {clash.hint}")
    return specs


def child_command(name: str, options: Mapping[str, Any]) -> list[str]:
    """`python manage.py prodserver NAME --skip-checks` with the runner's own options.

    The same interpreter, the same program (manage.py, django-admin, `-m django`) and
    settings as the runner; the runner has already run the checks.
    """
    argv = [*this_command_prefix(), "prodserver", name, "--skip-checks"]
    if options.get("settings"):
        argv.append(f"--settings={options['settings']}")
    if options.get("pythonpath"):
        argv.append(f"--pythonpath={options['pythonpath']}")
    if options.get("verbosity", 1) != 1:
        argv.append(f"--verbosity={options['verbosity']}")
    for flag in ("traceback", "no_color", "force_color"):
        if options.get(flag):
            argv.append("--" + flag.replace("_", "-"))
    return argv


def child_environment(spec: ProcessSpec, separate: Mapping[str, str]) -> dict[str, str]:
    """The runner's environment, then the process's ENV; output unbuffered.

    The runner's PID (the supervisor's too: it replaces this process) lets the child stop
    when the runner dies (see runner_death.py).
    """
    env = {key: value for key, value in os.environ.items() if key != APPLIED}
    return {**env, **separate, **spec.env, "PYTHONUNBUFFERED": "1", RUNNER_PID: str(os.getpid())}


def separate_environments(specs: Sequence[ProcessSpec]) -> dict[str, dict[str, str]]:
    """Variables that keep processes run together out of each other's way.

    gunicorn puts its control socket in one default place per user: when two or more
    gunicorn processes run together, each gets a directory of its own for it.
    """
    gunicorns = [spec for spec in specs if isinstance(load_backend(spec), GunicornServer)]
    if len(gunicorns) < 2:
        return {}
    return {spec.name: own_control_socket_environment(spec.name, os.environ) for spec in gunicorns}
