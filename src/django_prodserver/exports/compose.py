"""Docker Compose: a service per process, all from the project's one image."""

from __future__ import annotations

import re

from django_prodserver.exports.deployment import (
    CONTAINER_FLAGS,
    Deployment,
    ExportFormat,
    ExportOptions,
    refuse_root,
)
from django_prodserver.exports.dockerfile import STATE_DIRECTORY
from django_prodserver.exports.rendering import ExportedFile, render

FORMAT = ExportFormat(
    name="compose",
    flags=CONTAINER_FLAGS | {"dockerfile", "context"},
    in_container=True,
    # The Compose specification's pattern for a service name: [a-zA-Z0-9._-]+
    name_disallowed=re.compile(r"[^A-Za-z0-9_.-]+"),
    restart={"always": "always", "on-failure": "on-failure", "never": "no"},  # restart:
)
DEFAULT_ENVIRONMENT_FILE = ".env"


def export(deployment: Deployment) -> list[ExportedFile]:
    options = deployment.options
    refuse_root(options, FORMAT, "without --run-as, the image's own user")
    environment_files = list(options.environment_files)
    if deployment.secrets and not environment_files:
        environment_files = [DEFAULT_ENVIRONMENT_FILE]
    notes = []
    if deployment.secrets:
        notes.append(
            f"{', '.join(deployment.secrets)}: set in {' or '.join(environment_files)} "
            f"(NAME=value lines)."
        )
    build = builds_image(options)
    if build and not options.dockerfile:
        notes.append(
            f"The image {options.image} is built from the Dockerfile in "
            f"{options.context or 'this folder'}."
        )
    steps = deployment.release_steps
    services = [
        {
            "process": process,
            # A release step runs once: Compose must not start it again once it has exited.
            "restart": "no" if process.release else process.restart_setting(FORMAT),
            # `prodserver --probe` asks the process itself: HTTP for web, the framework for
            # a worker; `CMD` runs it without a shell. A release step is not probed.
            "probe": [] if process.release else ["CMD", *process.probe_argv],
            "probe_interval": 10 if process.kind == "web" else 30,
            "published_port": (
                f"{process.port}:{process.port}" if process.replicas == 1 else str(process.port)
            ),
            # A release step waits for the one before it; a process waits for every one.
            "depends_on": steps[: steps.index(process)][-1:] if process.release else steps,
            # What it keeps from start to start, in a volume at the image's STATE_DIRECTORY.
            "state_volume": f"{process.ident}-state" if process.state_files else None,
        }
        for process in deployment.processes
    ]
    notes.extend(
        f"{process.ident} keeps {process.state_files} in the volume {process.ident}-state, at "
        f"the image's $STATE_DIRECTORY ({STATE_DIRECTORY})."
        for process in deployment.processes
        if process.state_files
    )
    context = {
        "format": FORMAT.name,
        "notes": notes,
        "services": services,
        "options": options,
        "build": build,
        "environment_files": environment_files,
        "state_directory": STATE_DIRECTORY,
        "volumes": [f"{p.ident}-state" for p in deployment.processes if p.state_files],
    }
    return [ExportedFile("compose.yaml", render("compose.yaml", context))]


def builds_image(options: ExportOptions) -> bool:
    """Whether the services build their image: asked for, or no --image to pull."""
    return bool(options.dockerfile or options.context or not options.image_given)
