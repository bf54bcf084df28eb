"""`prodserver web worker` and `prodserver --all`: the processes the runner starts, and how."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

from django_prodserver.backends.base import Address, Backend, Plan
from django_prodserver.choosing import Chosen
from django_prodserver.environment import APPLIED
from django_prodserver.errors import ProdserverError
from django_prodserver.invocation import DjangoOptions
from django_prodserver.lifecycle.replacing import this_command_prefix
from django_prodserver.lifecycle.watchdog import RUNNER_PID
from django_prodserver.planning import PlannedProcess
from django_prodserver.port_per_process import assigned_ports, port_variables, ports_note
from django_prodserver.processes import ProcessSpec
from django_prodserver.project import project_folder
from django_prodserver.release import RELEASE_KIND, release_steps, run_release_steps
from django_prodserver.runner.child import Child
from django_prodserver.runner.holding import Holding, hold
from django_prodserver.runner.log_format import PLAIN
from django_prodserver.runner.printer import wants_colour
from django_prodserver.runner.registry import record_folder
from django_prodserver.runner.runner_output import RunnerOutput
from django_prodserver.runner.supervise import DEFAULT_OUTPUT, become_supervisor
from django_prodserver.shared_resources import (
    SharedResourceError,
    shared_listen_addresses,
    shared_resources,
)

# A copy of a formation (`prodserver worker=3`) is told its number, 1 to 3.
COPY_NUMBER = "DJANGO_PRODSERVER_COPY"
# Kept by the runner's children and everything they start: they run under a runner, and
# one of them asked to run several processes refuses (see refuse_to_nest).
UNDER_RUNNER = "DJANGO_PRODSERVER_UNDER_RUNNER"


def run_together(
    chosen: Chosen,
    planned: Sequence[PlannedProcess],
    notes: Sequence[str] = (),
    log_format: str | None = None,
) -> NoReturn:
    """Run the processes together until they are asked to stop, then exit.

    The release steps run first, each to its end (see release.py); the others start only
    if every one succeeded, else this exits with the failed step's status. This process
    then becomes the supervisor (see supervise.py): the exit status is its.
    """
    refuse_to_nest(chosen)
    ready = check_together(planned)
    check_formation(ready, chosen.copies)
    status = run_release_steps(release_steps(planned))
    if status:
        sys.exit(status)
    started = [(backend, plan) for backend, plan in ready if backend.kind != RELEASE_KIND]
    if not started:
        sys.exit(0)
    django = chosen.django
    processes = [(backend.spec, backend) for backend, _ in started]
    ports = assigned_ports(processes, chosen.base_port) if chosen.base_port is not None else {}
    become_runner(
        processes,
        django,
        lambda name: child_command(name, django),
        held=hold(started),
        copies=chosen.copies,
        record=record_folder(str(project_folder()), settings_module()),
        ports=ports,
        output=RunnerOutput(log_format or PLAIN, (*notes, *ports_note(ports))),
    )


def become_runner(
    processes: Sequence[tuple[ProcessSpec, Backend]],
    django: DjangoOptions,
    command: Callable[[str], Sequence[str]],
    *,
    held: Mapping[str, Holding] | None = None,
    copies: Mapping[str, int] | None = None,
    record: str = "",
    ports: Mapping[str, int] | None = None,
    output: RunnerOutput = DEFAULT_OUTPUT,
) -> NoReturn:
    """Become the runner of `processes` (each its spec as the runner reads it, and its
    backend), each started as `command(NAME)`: `prodserver NAME`, or `devserver NAME`.

    `held`: what the runner holds for each process (its sockets, see holding.py);
    `copies`: how many of a process run (a formation, `web=2`), each a child of its own;
    `record`: the folder of the runner's record, for `prodserver --reload`;
    `ports`: the PORT given to each web process (port_per_process.py); `output`: how the
    runner writes its output.
    """
    backends = [backend for _, backend in processes]
    children = []
    for spec, backend in processes:
        holding = (held or {}).get(spec.name, Holding())
        count = (copies or {}).get(spec.name, 1)
        environment = child_environment(
            spec,
            {**environment_beside(backend, backends), **port_variables(ports or {}, spec.name)},
        )
        for number in range(1, count + 1):
            children.append(
                Child(
                    spec,
                    tuple(command(spec.name)),
                    {**environment, COPY_NUMBER: str(number)} if count > 1 else environment,
                    copy=number if count > 1 else None,
                    style=holding.style,
                    fds=holding.fds,
                    where=holding.where,
                    probe=holding.probe,
                )
            )
    colour = wants_colour(dataclasses.asdict(django), sys.stdout.buffer)
    become_supervisor(children, colour, output, record)


def check_formation(ready: Sequence[tuple[Backend, Plan]], copies: Mapping[str, int]) -> None:
    """Copies of a process must be able to run side by side: a web process's copies share
    the runner's socket (or bind with SO_REUSEPORT); a release step runs once."""
    for name, count in copies.items():
        if count == 1:
            continue
        [(backend, plan)] = [(backend, plan) for backend, plan in ready if backend.name == name]
        if backend.kind == RELEASE_KIND:
            raise FormationError(
                f"{name}={count}: '{name}' is a release step, which runs once before the "
                f"others start; give it without a count."
            )
        address = backend.listen_address(plan) if backend.kind == "web" else None
        side_by_side = backend.takes_sockets or (
            getattr(backend, "reuses_port", False) and address is not None and not address.path
        )
        if address is not None and not side_by_side:
            raise FormationError(
                f"{name}={count}: the copies of '{name}' would each bind {address_text(address)}, "
                f"and {backend.server} cannot share the runner's socket: run one copy, or "
                f"raise its own worker count in ARGS instead."
            )


class FormationError(ProdserverError):
    pass


def address_text(address: Address) -> str:
    return f"unix:{address.path}" if address.path else f"{address.host}:{address.port}"


def settings_module() -> str:
    from django.conf import settings

    return str(os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE or "")


def refuse_to_nest(chosen: Chosen) -> None:
    """A process of a runner that is asked to run several processes itself refuses.

    A runner among a runner's processes would start the same processes again, each under
    two supervisors; a process named like an option (`--all`) would start runners without
    end.
    """
    runner = os.environ.get(UNDER_RUNNER)
    if runner is not None:
        raise NestedRunnerError(
            f"Cannot run {', '.join(chosen.names)} together: this command runs under a "
            f"prodserver runner (pid {runner}), and runners do not start runners. Run them "
            f"from the runner's own command line (`manage.py prodserver "
            f"{' '.join(chosen.names)}`) instead of from one of its processes."
        )


class NestedRunnerError(ProdserverError):
    pass


def dry_run_lines(
    planned: Sequence[PlannedProcess], copies: Mapping[str, int] | None = None
) -> list[str]:
    """`NAME: line` for each process, the line being what its child runs.

    The release steps come first, marked: they run, in this order, before the others start.
    The copies of a formation (`web=2`) are each a line: `web.1`, `web.2`.
    """
    copies = copies or {}
    ready = check_together(planned)
    check_formation(ready, copies)
    return [
        f"{backend.name}{copy}{' (release step)' if backend.kind == RELEASE_KIND else ''}: "
        f"{plan.command_line()}"
        for backend, plan in ready
        for copy in copy_suffixes(copies.get(backend.name, 1))
    ]


def copy_suffixes(count: int) -> list[str]:
    return [""] if count == 1 else [f".{number}" for number in range(1, count + 1)]


def check_together(planned: Sequence[PlannedProcess]) -> list[tuple[Backend, Plan]]:
    """Each process's backend and plan; an error if one failed or two would collide."""
    ready = [process.ready() for process in planned]
    backends = [backend for backend, _ in ready]
    for clash in [*shared_resources(backends), *shared_listen_addresses(ready)]:
        raise SharedResourceError(f"{clash.message}\nHint: {clash.hint}")
    return ready


def environment_beside(backend: Backend, backends: Sequence[Backend]) -> Mapping[str, str]:
    return backend.environment_beside([other for other in backends if other is not backend])


def child_command(name: str, django: DjangoOptions) -> list[str]:
    """`python manage.py prodserver NAME --skip-checks` with the runner's own options.

    The same interpreter, the same program (manage.py, django-admin, `-m django`) and
    settings as the runner; the runner has already run the checks.
    """
    return [
        *this_command_prefix(),
        "prodserver",
        name,
        "--skip-checks",
        *django.arguments(),
    ]


def child_environment(spec: ProcessSpec, beside: Mapping[str, str]) -> dict[str, str]:
    """The runner's environment, then the process's ENV; output unbuffered.

    The runner's PID (the supervisor's too: it replaces this process) lets the child tell
    a runner that has died from one that lives (see lifecycle/watchdog.py).
    """
    env = {key: value for key, value in os.environ.items() if key != APPLIED}
    runner = str(os.getpid())
    return {
        **env,
        **beside,
        **spec.env,
        "PYTHONUNBUFFERED": "1",
        RUNNER_PID: runner,
        UNDER_RUNNER: runner,
    }
