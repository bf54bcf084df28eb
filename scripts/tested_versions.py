"""Print the installed version of Django and of every package a runtime extra installs.

Run with a test venv's python (`scripts/test` does, at the top of the newest releases step):
the packages are read from django-prodserver's own metadata, so an extra added to
pyproject.toml is listed without being named here. The test, lint and docs extras are
tools, not what users run, and are left out.
"""

from __future__ import annotations

import re
from importlib import metadata

PROJECT = "django-prodserver"
TOOL_EXTRAS = frozenset({"test", "lint", "docs"})
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
# What an integration runs that the extras name only through it: listed after it.
ENGINES = {"django-rq": "rq"}


def runtime_packages() -> list[str]:
    """Django and the distributions the runtime extras require, in the metadata's order."""
    names = ["Django"]
    for requirement in metadata.requires(PROJECT) or []:
        spec, _, marker = requirement.partition(";")
        name = NAME.match(spec.strip())
        extra = EXTRA.search(marker)
        if name is None or extra is None or extra.group(1) in TOOL_EXTRAS:
            continue
        for found in (name.group(), ENGINES.get(canonical(name.group()))):
            if found and canonical(found) not in {PROJECT, *map(canonical, names)}:
                names.append(found)
    return names


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> None:
    found = []
    for name in runtime_packages():
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    print("Tested with: " + ", ".join(found))


if __name__ == "__main__":
    main()
