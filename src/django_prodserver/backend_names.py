"""BACKEND names that packages register, besides dotted paths.

A package that provides a backend can give it a name under the entry point group
`django_prodserver.backends`; `"BACKEND": "NAME"` then loads it, and `--list` says which
package registered it. In its pyproject.toml:

    [project.entry-points."django_prodserver.backends"]
    myserver = "mypackage.prodserver:MyServer"
"""

from __future__ import annotations

import importlib.metadata

from django_prodserver.errors import BackendImportError
from django_prodserver.suggestions import did_you_mean

ENTRY_POINT_GROUP = "django_prodserver.backends"


def registered_by(entry_point: importlib.metadata.EntryPoint) -> str:
    """`registered by mypackage 1.0 (entry point group GROUP)`."""
    distribution = getattr(entry_point, "dist", None)
    source = (
        f"{distribution.name} {distribution.version}"
        if distribution is not None
        else "an installed package"
    )
    return f"registered by {source} (entry point group {entry_point.group})"


def dotted_path(entry_point: importlib.metadata.EntryPoint) -> str:
    """`mypackage.prodserver.MyServer` for `mypackage.prodserver:MyServer`."""
    return entry_point.value.replace(":", ".")


def registered_backends() -> dict[str, tuple[str, str]]:
    """Each registered name: the dotted path of its class, and where it came from."""
    found: dict[str, tuple[str, str]] = {}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"'{entry_point.name}', {registered_by(entry_point)}"
        found.setdefault(entry_point.name, (dotted_path(entry_point), origin))
    return found


def is_registered_name(path: str) -> bool:
    """A BACKEND without a dot names a registered backend, if anything."""
    return "." not in path


def registered_path(process: str, name: str) -> tuple[str, str]:
    """The dotted path a registered name stands for, and where it came from."""
    registered = registered_backends()
    if name in registered:
        return registered[name]
    known = f" (registered: {', '.join(sorted(registered))})" if registered else ""
    raise BackendImportError(
        f"Process '{process}': BACKEND {name!r} is not a dotted path to a class, such as "
        f"'django_prodserver.backends.gunicorn.GunicornServer', nor a name that an installed "
        f"package registers under the entry point group '{ENTRY_POINT_GROUP}'"
        f"{did_you_mean(name, registered, quote=chr(39))}{known}."
    )
