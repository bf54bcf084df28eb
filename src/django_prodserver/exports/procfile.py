"""A Procfile: one line per process, for Heroku-style platforms, honcho and foreman."""

from __future__ import annotations

import re

from django_prodserver.errors import ProdserverError
from django_prodserver.exports.deployment import Deployment, ExportFormat, engine_notes
from django_prodserver.exports.rendering import ExportedFile, render

FORMAT = ExportFormat(
    name="procfile",
    flags=frozenset({"python"}),
    in_container=False,
    # honcho's, foreman's and Heroku's pattern for a process type: [A-Za-z0-9_-]+
    name_disallowed=re.compile(r"[^A-Za-z0-9_-]+"),
    stop_signal_note="{ident} stops on {signal}, but the platform sends SIGTERM.",
    never_restart_note="{ident}: RESTART never is up to the platform.",
)
# The process type Heroku-style platforms run before they start the new release.
RELEASE = "release"


def export(deployment: Deployment) -> list[ExportedFile]:
    notes = []
    if deployment.secrets:
        notes.append(
            f"Set {', '.join(deployment.secrets)} in the environment of the platform "
            f"(heroku config:set; honcho and foreman read .env)."
        )
    notes.extend(engine_notes(deployment))
    context = {
        "format": FORMAT.name,
        "notes": notes,
        "processes": deployment.long_running,
        "release": release_line(deployment),
    }
    return [ExportedFile("Procfile", render("procfile.txt", context))]


def release_line(deployment: Deployment) -> tuple[str, ...]:
    """`python manage.py prodserver --release NAME...`: the platform's one release command.

    A Procfile has one `release:` line; `--release` runs the steps in order, and stops
    at the first that fails with its status, which fails the release on the platform.
    """
    steps = deployment.release_steps
    if not steps:
        return ()
    taken = [process.name for process in deployment.long_running if process.ident == RELEASE]
    if taken:
        raise ProdserverError(
            f"Process '{taken[0]}' would be the Procfile's `{RELEASE}:` line, which the "
            f"platform runs as the release phase (the release steps). Rename the process."
        )
    python, manage, prodserver, *_ = steps[0].argv
    settings = deployment.options.django_options
    return (python, manage, prodserver, "--release", *(s.name for s in steps), *settings)
