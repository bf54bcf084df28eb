"""What the project's image installs: its dependency file, and every file that one names.

The Dockerfile installs the dependencies in a layer of their own, before the project's
code is copied in: that layer needs the dependency file and whatever it names in the
project's folder (the files a requirements file includes with `-r` or `-c`, a local
wheel or package it installs), and nothing else, so that a change of code does not
install everything again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django_prodserver.errors import ProdserverError

REQUIREMENTS = "requirements.txt"
# cookiecutter-django's and many others' layout: the production set includes the base one.
PRODUCTION_REQUIREMENTS = "requirements/production.txt"
PYPROJECT = "pyproject.toml"
UV_LOCK = "uv.lock"
# What the export looks for beside manage.py, in this order.
SEARCHED = (REQUIREMENTS, PRODUCTION_REQUIREMENTS, UV_LOCK, PYPROJECT)

# -r FILE, --requirement FILE, --requirement=FILE, and the same for -c (constraints).
INCLUDE = re.compile(r"^(?:-r|-c|--requirement|--constraint)(?:\s*=\s*|\s+)(?P<path>\S+)")
# -e PATH, --editable PATH, --editable=PATH.
EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+)(?P<path>\S+)")
# A requirement that is a path (a wheel, an sdist, a folder), as pip takes one.
LOCAL_PATH = re.compile(r"^(?:\.{1,2}/|/|file:)\S*")


@dataclass(frozen=True)
class Dependencies:
    """How the image installs the project's dependencies."""

    # "requirements" (pip install -r FILE), "uv" (uv sync --frozen), "project" (pip install .)
    tool: str
    file: str  # relative to the project's folder, with `/`
    # The files and folders the install needs before the code is in, in the order found.
    needs: tuple[str, ...]

    @property
    def copies(self) -> list[tuple[tuple[str, ...], str]]:
        """COPY lines for `needs`: (sources, destination), files of one folder together."""
        lines: dict[str, list[str]] = {}
        for path in self.needs:
            parent = str(PurePosixPath(path).parent)
            if path.endswith("/"):
                lines[path] = [path]
            else:
                lines.setdefault("./" if parent == "." else f"{parent}/", []).append(path)
        return [(tuple(sources), destination) for destination, sources in lines.items()]


def find_dependencies(folder: Path, given: str | None) -> Dependencies:
    """The dependency file `given` (--requirements), else the first of SEARCHED in `folder`."""
    if given is not None:
        path = inside(folder, given, "--requirements")
        if not (folder / path).is_file():
            raise ProdserverError(
                f"--requirements {given}: there is no such file in {folder}. Give the "
                f"dependency file relative to the folder of manage.py (such as "
                f"{PRODUCTION_REQUIREMENTS}, {UV_LOCK} or {PYPROJECT})."
            )
        return dependencies_of(folder, path)
    for name in SEARCHED:
        if (folder / name).is_file():
            return dependencies_of(folder, name)
    raise ProdserverError(
        f"--export dockerfile installs the project's dependencies from {REQUIREMENTS}, "
        f"{PRODUCTION_REQUIREMENTS}, {UV_LOCK} (with {PYPROJECT}) or {PYPROJECT} beside "
        f"manage.py, and {folder} has none of them. Write one (pip freeze > "
        f"{REQUIREMENTS}), or name yours with --requirements PATH, then export again."
    )


def dependencies_of(folder: Path, file: str) -> Dependencies:
    name = PurePosixPath(file).name
    if name == UV_LOCK:
        project = str(PurePosixPath(file).parent / PYPROJECT).removeprefix("./")
        if not (folder / project).is_file():
            raise ProdserverError(
                f"{file} is uv's lock of a {PYPROJECT}, and {folder} has no {project} beside "
                f"it: uv sync needs both."
            )
        # uv installs the local sources (a wheel of the project's) once the code is in.
        return Dependencies("uv", file, (project, file))
    if name == PYPROJECT:
        return Dependencies("project", file, ())
    return Dependencies("requirements", file, tuple(requirements_needs(folder, file, [])))


def requirements_needs(folder: Path, file: str, seen: list[str]) -> list[str]:
    """`file` and what it names in the project's folder, includes followed."""
    if file in seen:
        return []
    seen.append(file)
    needs = [file]
    for line in logical_lines((folder / file).read_text()):
        if included := INCLUDE.match(line):
            # pip reads an included file's path from the folder of the file that names it.
            path = inside(folder, str(PurePosixPath(file).parent / included["path"]), file)
            if not (folder / path).is_file():
                raise ProdserverError(f"{file} includes {included['path']}, which does not exist.")
            needs.extend(requirements_needs(folder, path, seen))
            continue
        editable = EDITABLE.match(line)
        local = editable["path"] if editable else line if LOCAL_PATH.match(line) else None
        if local is not None:
            needs.append(local_path(folder, local, file))
    return [need for index, need in enumerate(needs) if need not in needs[:index]]


def logical_lines(text: str) -> list[str]:
    """A requirements file's lines: comments removed, continued lines (`\\`) joined."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            lines.append(line)
    return lines


def local_path(folder: Path, requirement: str, file: str) -> str:
    """The project path a local requirement installs (`./wheels/x.whl[extra]`, `-e ./lib`)."""
    path = requirement.removeprefix("file:").split(";")[0].strip()
    path = re.sub(r"\[[^\]]*\]$", "", path)  # the extras
    relative = inside(folder, path, file)
    return relative + "/" if (folder / relative).is_dir() else relative


def inside(folder: Path, path: str, named_by: str) -> str:
    """`path` relative to the project's folder, `/`-separated; an error if it is outside."""
    resolved = (folder / path).resolve()
    root = folder.resolve()
    if resolved != root and root not in resolved.parents:
        raise ProdserverError(
            f"{named_by} names {path}, which is outside the folder of manage.py ({folder}): "
            f"the image is built from that folder only. Move it into the project (a wheel "
            f"into wheels/, say), or install it from a package index."
        )
    return resolved.relative_to(root).as_posix()
