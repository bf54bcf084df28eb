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
# supervisord starts programs in increasing priority (999 by default): release steps first.
RELEASE_PRIORITY = 100


def export(deployment: Deployment) -> list[ExportedFile]:
    project = deployment.project
    notes = []
    files = deployment.options.environment_files
    if deployment.secrets or files:
        source = " and ".join(files) if files else "an environment file"
        names = ", ".join(deployment.secrets) or "The variables of " + source
        notes.append(
            f"{names}: supervisord passes on its own variables to its programs (it reads no "
            f"environment file); start it with them set (from {source}, e.g. by "
            f"EnvironmentFile= in the systemd unit of supervisord)."
        )
    if deployment.release_steps:
        steps = ", ".join(f"{project}-{step.ident}" for step in deployment.release_steps)
        notes.append(
            f"{steps}: release steps. supervisord starts them first but does not wait for "
            f"them to succeed before it starts the others; to deploy, run "
            f"`python manage.py prodserver --release` before `supervisorctl update`."
        )
    programs = [
        {
            "process": process,
            "program": f"{project}-{process.ident}",
            # A release step runs once to its end: never restarted, and done when it exits.
            "autorestart": "false" if process.release else process.restart_setting(FORMAT),
            "stop_signal": process.stop_signal.removeprefix("SIG"),
            "priority": RELEASE_PRIORITY + index if process.release else None,
        }
        for index, process in enumerate(deployment.processes)
    ]
    context = {
        "format": FORMAT.name,
        "notes": notes,
        "project": project,
        "programs": programs,
        "options": deployment.options,
    }
    return [ExportedFile(f"{project}.conf", render("supervisor.conf", context))]
