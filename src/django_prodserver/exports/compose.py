"""Docker Compose: a service per process, all from the project's one image."""

from __future__ import annotations

import re

from django_prodserver.exports.deployment import CONTAINER_FLAGS, Deployment, ExportFormat
from django_prodserver.exports.rendering import ExportedFile, render

FORMAT = ExportFormat(
    name="compose",
    flags=CONTAINER_FLAGS,
    in_container=True,
    # The Compose specification's pattern for a service name: [a-zA-Z0-9._-]+
    name_disallowed=re.compile(r"[^A-Za-z0-9_.-]+"),
    restart={"always": "always", "on-failure": "on-failure", "never": "no"},  # restart:
)
DEFAULT_ENVIRONMENT_FILE = ".env"


def export(deployment: Deployment) -> list[ExportedFile]:
    options = deployment.options
    environment_file = options.environment_file
    if deployment.secrets and environment_file is None:
        environment_file = DEFAULT_ENVIRONMENT_FILE
    notes = []
    if deployment.secrets:
        notes.append(
            f"{', '.join(deployment.secrets)}: set in {environment_file} (NAME=value lines)."
        )
    if not options.image_given:
        notes.append(f"The image {options.image} is built from the Dockerfile in this folder.")
    services = [
        {
            "process": process,
            "restart": process.restart_setting(FORMAT),
            # `prodserver --probe` asks the process itself: HTTP for web, the framework for
            # a worker; `CMD` runs it without a shell.
            "probe": ["CMD", *process.probe_argv],
            "probe_interval": 10 if process.kind == "web" else 30,
            "published_port": (
                f"{process.port}:{process.port}" if process.replicas == 1 else str(process.port)
            ),
        }
        for process in deployment.processes
    ]
    context = {
        "format": FORMAT.name,
        "notes": notes,
        "services": services,
        "options": options,
        "environment_file": environment_file,
    }
    return [ExportedFile("compose.yaml", render("compose.yaml", context))]
