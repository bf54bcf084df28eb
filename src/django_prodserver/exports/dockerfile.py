"""A Dockerfile: the project's production image, whose command starts one of its processes.

Every process runs from this one image; the image's own CMD, STOPSIGNAL and HEALTHCHECK
are those of the first process exported (name it to choose: `--export dockerfile web`).
Compose and Kubernetes set each service's command, stop signal and probe themselves.
"""

from __future__ import annotations

import re
import sys

from django.conf import settings

from django_prodserver.bounds import whole_number
from django_prodserver.errors import ProdserverError
from django_prodserver.exports.deployment import LARGEST_USER_ID, Deployment, ExportFormat
from django_prodserver.exports.rendering import ExportedFile, render
from django_prodserver.project import project_folder

FORMAT = ExportFormat(
    name="dockerfile",
    flags=frozenset({"working_directory", "run_as"}),
    in_container=True,
    # A user name (`--run-as`) and process names appear only in words of their own.
    name_disallowed=re.compile(r"[^A-Za-z0-9_.-]+"),
)
DEFAULT_WORKDIR = "/app"
# The user id the image runs as (above the range distributions give their own users).
DEFAULT_UID = 10001
DEPENDENCY_FILES = ("requirements.txt", "pyproject.toml")


def export(deployment: Deployment) -> list[ExportedFile]:
    options = deployment.options
    process, *others = deployment.processes
    user = options.run_as or str(DEFAULT_UID)
    uid = whole_number(user, LARGEST_USER_ID)
    if not uid:
        raise ProdserverError(
            f"--run-as {user}: the Dockerfile creates the user the image runs as, by its "
            f"numeric id (which Kubernetes' runAsNonRoot can check) from 1 to "
            f"{LARGEST_USER_ID}, not root: give one such as --run-as {DEFAULT_UID}."
        )
    notes = []
    if others:
        notes.append(
            f"The image runs '{process.name}' by default; "
            f"{', '.join(repr(other.name) for other in others)} run from it with their own "
            f"command (the Compose and Kubernetes exports set it)."
        )
    signals = {other.stop_signal for other in others} - {process.stop_signal}
    if signals:
        notes.append(
            f"STOPSIGNAL is '{process.name}''s {process.stop_signal}; the processes that stop "
            f"on {', '.join(sorted(signals))} need it set where they run (Compose stop_signal)."
        )
    django_options = process.argv[4:]
    context = {
        "format": FORMAT.name,
        "notes": notes,
        "base_image": f"python:{sys.version_info.major}.{sys.version_info.minor}-slim",
        "workdir": options.working_directory or DEFAULT_WORKDIR,
        "dependencies": dependency_file(),
        "collectstatic": (
            ["python", "manage.py", "collectstatic", "--noinput", *django_options]
            if getattr(settings, "STATIC_ROOT", None)
            else None
        ),
        "uid": uid,
        "process": process,
        "probe_interval": 10 if process.kind == "web" else 30,
    }
    return [ExportedFile("Dockerfile", render("Dockerfile", context))]


def dependency_file() -> str:
    """requirements.txt (a layer of its own) if manage.py's folder has one, else pyproject.toml."""
    folder = project_folder()
    for name in DEPENDENCY_FILES:
        if (folder / name).is_file():
            return name
    raise ProdserverError(
        f"--export dockerfile installs the project's dependencies from requirements.txt "
        f"(or pyproject.toml) beside manage.py, and {folder} has neither. Write one "
        f"(pip freeze > requirements.txt), then export again."
    )
