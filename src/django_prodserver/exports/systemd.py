"""systemd: a service unit per process, and a target that starts and stops them together."""

from __future__ import annotations

import re

from django_prodserver.exports.deployment import Deployment, ExportedProcess, ExportFormat
from django_prodserver.exports.rendering import ExportedFile, render

FORMAT = ExportFormat(
    name="systemd",
    flags=frozenset({"project", "python", "working_directory", "run_as", "environment_file"}),
    in_container=False,
    # Unit names take [A-Za-z0-9:_.\-]; `@` would make a template unit, `\` an escape.
    name_disallowed=re.compile(r"[^A-Za-z0-9_.-]+"),
    max_name_length=255 - len(".service"),
    restart={"always": "always", "on-failure": "on-failure", "never": "no"},  # Restart=
)


def export(deployment: Deployment) -> list[ExportedFile]:
    project = deployment.project
    target = f"{project}.target"
    options = deployment.options
    environment_files = list(options.environment_files)
    if deployment.secrets and not environment_files:
        environment_files = [f"{options.working_directory}/.env"]
    notes = []
    if deployment.secrets:
        notes.append(
            f"{', '.join(deployment.secrets)}: set in {' or '.join(environment_files)} "
            f"(NAME=value lines; readable by root only)."
        )
    release_units = [unit_name(project, step) for step in deployment.release_steps]
    units = []
    for process in deployment.processes:
        # A release step waits for the one before it; a process waits for every one.
        waits_for = (
            release_units[: deployment.release_steps.index(process)][-1:]
            if process.release
            else release_units
        )
        context = {
            "format": FORMAT.name,
            "notes": notes,
            "project": project,
            "target": target,
            "process": process,
            "restart": process.restart_setting(FORMAT),
            "options": options,
            "environment_files": environment_files,
            "requires": waits_for,
            # The name of its folders under /run and /var/lib: its unit's.
            "directory": unit_name(project, process).removesuffix(".service"),
        }
        template = "systemd-release.service" if process.release else "systemd.service"
        units.append(ExportedFile(unit_name(project, process), render(template, context)))
    services = [unit.name for unit in units]
    context = {"format": FORMAT.name, "notes": [], "project": project, "services": services}
    return [*units, ExportedFile(target, render("systemd.target", context))]


def unit_name(project: str, process: ExportedProcess) -> str:
    return f"{project}-{process.ident}.service"
