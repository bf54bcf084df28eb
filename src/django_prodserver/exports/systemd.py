"""systemd: a service unit per process, and a target that starts and stops them together."""

from __future__ import annotations

import re

from django_prodserver.exports.deployment import Deployment, ExportFormat
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
    environment_file = options.environment_file
    if deployment.secrets and environment_file is None:
        environment_file = f"{options.working_directory}/.env"
    notes = []
    if deployment.secrets:
        notes.append(
            f"{', '.join(deployment.secrets)}: set in {environment_file} "
            f"(NAME=value lines; readable by root only)."
        )
    units = []
    for process in deployment.processes:
        context = {
            "format": FORMAT.name,
            "notes": notes,
            "project": project,
            "target": target,
            "process": process,
            "restart": process.restart_setting(FORMAT),
            "options": options,
            "environment_file": environment_file,
        }
        units.append(
            ExportedFile(f"{project}-{process.ident}.service", render("systemd.service", context))
        )
    services = [unit.name for unit in units]
    context = {"format": FORMAT.name, "notes": [], "project": project, "services": services}
    return [*units, ExportedFile(target, render("systemd.target", context))]
