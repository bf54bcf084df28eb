"""`manage.py devserver [NAME ...]`: the processes in development form, under the runner.

One name runs in the foreground: a web process's development server, or a worker under
its reloader (`--noreload`: the worker alone, which is what the reloader starts). Several
names, or none (every process that makes sense in development), run together under the
runner of `prodserver web worker`, each as `manage.py devserver NAME`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from django_prodserver.backends.base import Backend
from django_prodserver.development.forms import (
    DEFAULT_PORT,
    DevelopmentProcess,
    development_form,
    url_of,
)
from django_prodserver.development.reloader import WorkerReloader
from django_prodserver.development.watching import make_watcher, project_folders
from django_prodserver.errors import ProdserverError
from django_prodserver.invocation import DjangoOptions
from django_prodserver.lifecycle.replacing import this_command_prefix
from django_prodserver.loading import load_backend
from django_prodserver.planning import PlannedProcess
from django_prodserver.port_per_process import assigned_ports, base_port
from django_prodserver.processes import Configuration, ProcessSpec
from django_prodserver.runner.runner_output import RunnerOutput


def chosen_processes(
    configuration: Configuration, names: Sequence[str], port: int | None = None
) -> tuple[list[DevelopmentProcess], list[str]]:
    """The processes `devserver NAME...` means, and why each left out is left out.

    With no name: every process, but those whose DEV is False and the schedulers (a
    second Celery beat beside another sends every periodic task twice): named, they run.
    Each backend is loaded once, whether to tell a scheduler or to make the form.
    """
    configured: dict[str, Backend] = {}

    def load(spec: ProcessSpec) -> Backend:
        if configuration.specs.get(spec.name) is not spec:
            return load_backend(spec)  # a DEV or a replacement, which its form loads once
        if spec.name not in configured:
            configured[spec.name] = load_backend(spec)
        return configured[spec.name]

    left_out: list[str] = []
    if names:
        specs = configuration.chosen(names)
        for spec in specs:
            if not spec.in_development:
                raise ProdserverError(
                    f"Process '{spec.name}' is left out of development: its DEV is False. "
                    f'Remove `"DEV": False` from its definition to run it with devserver, '
                    f"or start it with `manage.py prodserver {spec.name}`."
                )
    else:
        specs = []
        for spec in configuration.every():
            if not spec.in_development:
                left_out.append(f"{spec.name} (its DEV is False)")
            elif load(spec).single_instance:
                left_out.append(
                    f"{spec.name} (a scheduler, which must run once: name it to run it, "
                    f"`manage.py devserver {spec.name} ...`)"
                )
            else:
                specs.append(spec)
        if not specs:
            raise ProdserverError(
                "No process is left to run in development: " + "; ".join(left_out) + "."
            )
    ports = development_ports(specs, load, port)
    return [development_form(spec, load, ports.get(spec.name)) for spec in specs], left_out


def development_ports(
    specs: Sequence[ProcessSpec], load: Callable[[ProcessSpec], Backend], port: int | None
) -> dict[str, int]:
    """The port of each web server devserver replaces that has no address of its own.

    Run together, or with --port: from `--port`, else $PORT, else 8000, in steps of 100,
    as the runner of `prodserver` gives them (port_per_process.py). A process with DEV
    runs as its DEV says, and is not counted.
    """
    if len(specs) < 2 and port is None:
        return {}
    base = base_port(port, os.environ, default=DEFAULT_PORT)
    return assigned_ports([(spec, load(spec)) for spec in specs if spec.dev is None], base)


def summary_line(process: DevelopmentProcess, planned: PlannedProcess) -> str:
    """`web: http://127.0.0.1:8000/, runserver in place of gunicorn (WSGI)`."""
    backend, plan = planned.ready()
    url = url_of(backend, plan) if process.kind == "web" else None
    how = f"{backend.server} {process.origin}"
    reloads = (
        "restarted by devserver when the code changes"
        if process.reloaded_by_devserver
        else "with its own reloader"
        if backend.development_server or "--reload" in plan.argv
        else "without a reloader"
    )
    return f"{process.name}: {f'{url}, ' if url else ''}{how}, {reloads}"


def dry_run_line(process: DevelopmentProcess, planned: PlannedProcess) -> str:
    _, plan = planned.ready()
    note = "  # restarted when the code changes" if process.reloaded_by_devserver else ""
    return f"{process.name}: {plan.command_line()}{note}"


def devserver_command(name: str, django: DjangoOptions, *flags: str) -> list[str]:
    """`python manage.py devserver NAME --skip-checks` with this command's Django options."""
    return [*this_command_prefix(), "devserver", name, "--skip-checks", *flags, *django.arguments()]


def run_reloaded_worker(
    process: DevelopmentProcess, django: DjangoOptions, environ: dict[str, str], output: TextIO
) -> int:
    """The worker under its reloader, until SIGTERM or SIGINT."""
    spec = process.spec
    reloader = WorkerReloader(
        spec,
        argv=devserver_command(spec.name, django, "--noreload"),
        env={**environ, **spec.env, "PYTHONUNBUFFERED": "1"},
        watcher=make_watcher,
        output=output,
        project=project_folders(),
    )
    return reloader.run()


def run_together(
    processes: Sequence[DevelopmentProcess],
    planned: Sequence[PlannedProcess],
    django: DjangoOptions,
    output: RunnerOutput | None = None,
) -> NoReturn:
    """Become the runner of `prodserver web worker`, its children `devserver NAME`."""
    from django_prodserver.runner.together import become_runner, check_together

    backends = [backend for backend, _ in check_together(planned)]
    become_runner(
        [
            (process.supervised, backend)
            for process, backend in zip(processes, backends, strict=True)
        ],
        django,
        lambda name: devserver_command(name, django),
        # As PORT, which the child's own `devserver NAME` reads for the address.
        ports={process.name: process.given_port for process in processes if process.given_port},
        output=output or RunnerOutput(),
    )
