"""A Dockerfile: the project's production image, whose command starts one of its processes.

Every process runs from this one image; the image's own CMD, STOPSIGNAL and HEALTHCHECK
are those of the first process exported (name it to choose: `--export dockerfile web`).
Compose and Kubernetes set each service's command, stop signal and probe themselves.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from django.conf import settings

from django_prodserver.bounds import whole_number
from django_prodserver.errors import ProdserverError
from django_prodserver.exports.dependencies import find_dependencies
from django_prodserver.exports.deployment import LARGEST_USER_ID, Deployment, ExportFormat
from django_prodserver.exports.rendering import ExportedFile, render
from django_prodserver.project import project_folder

FORMAT = ExportFormat(
    name="dockerfile",
    flags=frozenset({"working_directory", "run_as", "requirements"}),
    in_container=True,
    # A user name (`--run-as`) and process names appear only in words of their own.
    name_disallowed=re.compile(r"[^A-Za-z0-9_.-]+"),
)
DEFAULT_WORKDIR = "/app"
# The user id the image runs as (above the range distributions give their own users).
DEFAULT_UID = 10001
# The uv the image gets when no uv runs here to tell its version (the one that wrote uv.lock).
DEFAULT_UV_VERSION = "0.13.9"
UV_IMAGE = "ghcr.io/astral-sh/uv"
# gunicorn (25.1 and later) keeps its control socket in $XDG_RUNTIME_DIR; the image's user
# has no home to keep it in. /tmp stays writable under a read-only root (a tmpfs there).
RUNTIME_DIRECTORY = "/tmp"
# Where a process keeps its state from one start to the next: a folder of the image's user.
STATE_DIRECTORY = "/var/lib/app"


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
    workdir = options.working_directory or DEFAULT_WORKDIR
    files = file_databases(workdir)
    notes.extend(
        f"The {what} is at {path} (as the settings read here), in the image's code, which "
        f"its user cannot write: take the path from $STATE_DIRECTORY ({STATE_DIRECTORY}, "
        f"the user's) and mount a volume there, or use a database server."
        for what, path in files.items()
    )
    dependencies = find_dependencies(project_folder(), options.requirements)
    project = str(PurePosixPath(dependencies.file).parent)
    context = {
        "format": FORMAT.name,
        "notes": notes,
        "base_image": f"python:{sys.version_info.major}.{sys.version_info.minor}-slim",
        "workdir": workdir,
        "dependencies": dependencies,
        "uv_image": f"{UV_IMAGE}:{uv_version()}" if dependencies.tool == "uv" else None,
        # uv runs where pyproject.toml is.
        "uv_project": f" --project={project}" if project != "." else "",
        "runtime_files": described(process.runtime_files for process in deployment.processes),
        "runtime_directory": RUNTIME_DIRECTORY,
        "state_files": described(
            [
                *(process.state_files for process in deployment.processes),
                *map("the {}".format, files),
            ]
        ),
        "state_directory": STATE_DIRECTORY,
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


def file_databases(workdir: str) -> dict[str, PurePosixPath]:
    """The SQLite databases and file caches the settings keep in the project's folder, and
    their paths in the image ("SQLite database 'default'": /app/db.sqlite3)."""
    folder = project_folder().resolve()
    found = {}
    places = [
        (f"SQLite database {alias!r}", str(database.get("NAME") or ""))
        for alias, database in settings.DATABASES.items()
        if str(database.get("ENGINE", "")).endswith("sqlite3")
    ] + [
        (f"file cache {alias!r}", str(cache.get("LOCATION") or ""))
        for alias, cache in getattr(settings, "CACHES", {}).items()
        if str(cache.get("BACKEND", "")).endswith("FileBasedCache")
    ]
    for what, path in places:
        if not path or not os.path.isabs(path):
            continue  # in memory, or a URI
        resolved = Path(path).resolve()
        if resolved == folder or folder in resolved.parents:
            found[what] = PurePosixPath(workdir, resolved.relative_to(folder).as_posix())
    return found


def described(descriptions: Iterable[str | None]) -> str:
    """What the processes keep, each said once: "gunicorn's control socket"."""
    return ", ".join(dict.fromkeys(text for text in descriptions if text))


def uv_version() -> str:
    """The version of the uv beside this Python or on PATH (which wrote uv.lock), or ours."""
    beside = os.path.join(os.path.dirname(sys.executable), "uv")
    found = beside if os.path.isfile(beside) else shutil.which("uv")
    if found is None:
        return DEFAULT_UV_VERSION
    try:
        said = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return DEFAULT_UV_VERSION
    match = re.search(r"\b(\d+\.\d+\.\d+)\b", said)
    return match[1] if match else DEFAULT_UV_VERSION
