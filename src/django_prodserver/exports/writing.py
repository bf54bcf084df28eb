"""The `--export FORMAT` part of `prodserver`: flags in, files (or standard output) out."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from django.conf import ENVIRONMENT_VARIABLE, settings
from django.core.management.base import OutputWrapper

from django_prodserver.errors import ProdserverError
from django_prodserver.exports import (
    compose,
    dockerfile,
    kubernetes,
    procfile,
    supervisor,
    systemd,
)
from django_prodserver.exports.deployment import (
    Deployment,
    ExportFormat,
    ExportOptions,
    deployment_of,
    engine_name,
    sandboxed,
)
from django_prodserver.exports.flags import DEPLOYMENT_FLAGS, ExportRequest
from django_prodserver.exports.rendering import ExportedFile
from django_prodserver.invocation import DjangoOptions
from django_prodserver.planning import plan_process
from django_prodserver.processes import Configuration, ProcessSpec
from django_prodserver.project import project_folder
from django_prodserver.suggestions import did_you_mean

Exporter = Callable[[Deployment], list[ExportedFile]]
FORMATS: dict[str, tuple[ExportFormat, Exporter]] = {
    module.FORMAT.name: (module.FORMAT, module.export)
    for module in (procfile, systemd, supervisor, compose, kubernetes, dockerfile)
}
REPLICAS = re.compile(r"(?P<name>.+)=(?P<count>[0-9]{1,9})")
# More copies of one process than any of these engines is meant to run from one file.
MAX_REPLICAS = 1000


def run_export(
    configuration: Configuration,
    names: Sequence[str],
    request: ExportRequest,
    django: DjangoOptions,
    stdout: OutputWrapper,
) -> None:
    export, exporter = find_format(request.format)
    check_flags(export, request)
    specs = configuration.chosen(names) if names else configuration.every()
    planned = [plan_process(spec) for spec in specs]
    deployment = deployment_of(planned, export, export_options(export, specs, request, django))
    stderr = OutputWrapper(sys.stderr)
    for warning in deployment.warnings:
        stderr.write(f"Warning: {warning}")
    files = exporter(deployment)
    if request.output:
        write_files(files, request.output, stdout, private=bool(deployment.secrets))
    else:
        stdout.write(join_files(files), ending="")


def find_format(name: str) -> tuple[ExportFormat, Exporter]:
    if name in FORMATS:
        return FORMATS[name]
    raise ProdserverError(
        f"Unknown export format {name!r}{did_you_mean(name, FORMATS, quote=chr(39))}. "
        f"The formats are: {', '.join(FORMATS)}."
    )


def check_flags(export: ExportFormat, request: ExportRequest) -> None:
    for dest, flag in DEPLOYMENT_FLAGS.items():
        given = request.value(dest)
        values = given if isinstance(given, tuple) else [given]
        if any(isinstance(value, str) and not value.strip() for value in values):
            # An empty shell variable, most likely (--run-as "$DEPLOY_USER").
            raise ProdserverError(
                f"{flag} was given an empty value. Give it one, or leave {flag} out for its "
                f"default."
            )
        if dest == "output" or not given or dest in export.flags:
            continue
        takes = [DEPLOYMENT_FLAGS[name] for name in DEPLOYMENT_FLAGS if name in export.flags]
        raise ProdserverError(
            f"{flag} means nothing in a {export.name} export, so it cannot be honoured. "
            f"--export {export.name} takes {', '.join(['--output', *takes])}."
        )


def export_options(
    export: ExportFormat,
    specs: Sequence[ProcessSpec],
    request: ExportRequest,
    django: DjangoOptions,
) -> ExportOptions:
    working_directory = request.working_directory
    if working_directory is None and not export.in_container and export.name != "procfile":
        working_directory = str(project_folder())
    folder = Path(working_directory) if working_directory else project_folder()
    project = engine_name(request.project or folder.name, export, "The project name")
    image = request.image or re.sub(r"[^a-z0-9._-]+", "-", project.lower()) + ":latest"
    python = request.python or (
        os.path.abspath(sys.executable)
        if not export.in_container and export.name != "procfile"
        else "python"
    )
    django_options = tuple(carried_django_options(django))
    return ExportOptions(
        project=project,
        python=python,
        working_directory=working_directory,
        image=image,
        image_given=bool(request.image),
        run_as=request.run_as,
        environment_files=request.environment_file,
        replicas=read_replicas(request.replicas, [spec.name for spec in specs]),
        django_options=django_options,
        dockerfile=request.dockerfile,
        context=request.context,
        requirements=request.requirements,
        sandboxed=sandboxed(request.sandbox),
        socket_activation=request.socket_activation,
    )


def carried_django_options(given: DjangoOptions) -> list[str]:
    """`--settings=MODULE` (and `--pythonpath=...`) for every exported process.

    MODULE is the settings module this export ran with, wherever it came from: --settings,
    DJANGO_SETTINGS_MODULE, or manage.py's default. The engine's environment is not this
    shell's, and manage.py's default is rarely the production module, so the file says it.
    """
    # The variable Django read the settings from (--settings sets it, manage.py defaults
    # it); settings.SETTINGS_MODULE reads None under override_settings.
    module = given.settings or os.environ.get(ENVIRONMENT_VARIABLE) or settings.SETTINGS_MODULE
    if not module:
        raise ProdserverError(
            "The export cannot tell which settings module the processes run with: the "
            "settings were configured in code (settings.configure()), not from a module. "
            "Give it: --settings=myproject.settings"
        )
    return DjangoOptions(settings=module, pythonpath=given.pythonpath).settings_arguments()


def read_replicas(values: Sequence[str], names: Sequence[str]) -> dict[str, int]:
    replicas: dict[str, int] = {}
    for value in values:
        match = REPLICAS.fullmatch(value)
        if match is None or not 1 <= int(match["count"]) <= MAX_REPLICAS:
            raise ProdserverError(
                f"--replicas takes NAME=N with N a whole number of at least 1 (and at most "
                f"{MAX_REPLICAS}), such as --replicas web=3; got {value!r}."
            )
        name = match["name"]
        if name not in names:
            raise ProdserverError(
                f"--replicas {value}: no process {name!r} is exported"
                f"{did_you_mean(name, names, quote=chr(39))}. "
                f"Exported processes: {', '.join(names)}."
            )
        replicas[name] = int(match["count"])
    return replicas


def join_files(files: Sequence[ExportedFile]) -> str:
    """One file as it is; several, each under a `# ==> NAME <==` line, a blank line apart."""
    if len(files) == 1:
        return files[0].text
    return "\n".join(f"# ==> {file.name} <==\n{file.text}" for file in files)


def write_files(
    files: Sequence[ExportedFile], directory: str, stdout: OutputWrapper, *, private: bool
) -> None:
    """Each file in `directory`; `private`: readable by its owner alone (0600).

    Files that name secrets (where they come from, which variables hold them) are private,
    even when they replace a file that was not.
    """
    if "\x00" in directory:
        raise ProdserverError(
            f"--output {directory!r}: a folder's name cannot hold a NUL character."
        )
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise ProdserverError(
            f"--output {directory} is a file; --output takes a folder to write the files into."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for file in files:
            write_file(folder / file.name, file.text, private=private)
            stdout.write(f"Wrote {folder / file.name}")
    except OSError as error:
        raise ProdserverError(
            f"--output {directory!r}: cannot write the files: {error.strerror or error}."
        ) from None


def write_file(path: Path, text: str, *, private: bool) -> None:
    if not private:
        path.write_text(text)
        return
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(descriptor, 0o600)  # os.open's mode applies only to a new file
        file.write(text)
