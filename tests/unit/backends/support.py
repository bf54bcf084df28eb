"""Planning one process with a backend, in-process: the command line it would run."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from django.test import override_settings

from django_prodserver.backends.base import Backend
from django_prodserver.processes import ProcessSpec

# What the servers serve, named as startproject names them (workers read neither).
APPLICATIONS = {
    "WSGI_APPLICATION": "myproject.wsgi.application",
    "ASGI_APPLICATION": "myproject.asgi.application",
}


def line(
    args: Any = None,
    overrides: Sequence[str] = (),
    *,
    backend: type[Backend],
    name: str = "web",
    settings: Mapping[str, Any] = APPLICATIONS,
    **spec: Any,
) -> str:
    """The command line of process `name` of `backend` with ARGS `args` (None: none).

    `overrides` are the arguments given after the name on the command line, `spec` the
    process's other fields (app, stop_signal...). The plan is made with `settings` on
    top of the tests' settings.

    A test module binds its backend and defaults with `functools.partial`; a call can
    still give another backend, as any other keyword.
    """
    path = f"{backend.__module__}.{backend.__qualname__}"
    process = ProcessSpec(name, path, {} if args is None else args, **spec)
    with override_settings(**settings):
        return backend(process).plan(overrides).command_line()


def install_distribution(folder: Path, name: str, version: str, entry_points: str) -> None:
    """A distribution installed in `folder` (put it on sys.path): its metadata and entry points.

    `entry_points` is the text of its entry_points.txt (`[group]` then `name = module:attr`).
    """
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(entry_points)
    importlib.invalidate_caches()
