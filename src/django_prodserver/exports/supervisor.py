"""supervisord: a program per process, in a group named after the project."""

from __future__ import annotations

import re

from django_prodserver.exports.deployment import Deployment, ExportFormat
from django_prodserver.exports.rendering import ExportedFile, render

FORMAT = ExportFormat(
    name="supervisor",
    flags=frozenset(
        {"project", "python", "working_directory", "run_as", "environment_file", "replicas"}
    ),
    in_container=False,
    # A section is `[program:NAME]`; `:` separates a group from its programs.
    name_disallowed=re.compile(r"[^A-Za-z0-9_.-]+"),
    # autorestart= (`unexpected`: restarted unless it exits with status 0)
    restart={"always": "true", "on-failure": "unexpected", "never": "false"},
)


def export(deployment: Deployment) -> list[ExportedFile]:
    project = deployment.project
    notes = []
    if deployment.secrets:
        source = deployment.options.environment_file or "an environment file"
        notes.append(
            f"{', '.join(deployment.secrets)}: supervisord passes on its own variables of "
            f"these names; start it with them set (from {source}, e.g. by EnvironmentFile= "
            f"in the systemd unit of supervisord)."
        )
    programs = [
        {
            "process": process,
            "program": f"{project}-{process.ident}",
            "autorestart": process.restart_setting(FORMAT),
            "stop_signal": process.stop_signal.removeprefix("SIG"),
        }
        for process in deployment.processes
    ]
    context = {
        "format": FORMAT.name,
        "notes": notes,
        "project": project,
        "programs": programs,
        "options": deployment.options,
    }
    return [ExportedFile(f"{project}.conf", render("supervisor.conf", context))]
