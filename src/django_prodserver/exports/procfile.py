"""A Procfile: one line per process, for Heroku-style platforms, honcho and foreman."""

from __future__ import annotations

import re

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


def export(deployment: Deployment) -> list[ExportedFile]:
    notes = []
    if deployment.secrets:
        notes.append(
            f"Set {', '.join(deployment.secrets)} in the environment of the platform "
            f"(heroku config:set; honcho and foreman read .env)."
        )
    notes.extend(engine_notes(deployment))
    context = {"format": FORMAT.name, "notes": notes, "processes": deployment.processes}
    return [ExportedFile("Procfile", render("procfile.txt", context))]
