"""django-prodserver 3.0's `server` and `worker` commands: each starts one kind of process.

`manage.py server` starts web processes, `manage.py worker` workers; with no name, the
first configured process of that kind. `prodserver` starts any.
"""

from __future__ import annotations

from collections.abc import Sequence

from django_prodserver.backends.base import Backend
from django_prodserver.errors import ProdserverError
from django_prodserver.loading import load_backend
from django_prodserver.processes import ProcessSpec

# A backend's kind, as the commands name it.
KIND_NAMES = {"web": "web", "worker": "worker"}
# The command that starts each kind, besides `prodserver`.
KIND_COMMANDS = {"web": "server", "worker": "worker"}


def check_kind(backend: Backend, kind: str | None) -> None:
    """`manage.py server` starts web processes only, `manage.py worker` workers only."""
    if kind is None or backend.kind == kind:
        return
    right = KIND_COMMANDS.get(backend.kind, "prodserver")
    raise ProdserverError(
        f"Process '{backend.name}' is a {backend.kind} process ({backend.server}), and "
        f"`manage.py {KIND_COMMANDS[kind]}` starts {KIND_NAMES[kind]} processes only. "
        f"Start it with `manage.py {right} {backend.name}` or `manage.py prodserver "
        f"{backend.name}`."
    )


def of_kind(specs: Sequence[ProcessSpec], kind: str | None) -> list[ProcessSpec]:
    """The processes `manage.py server` (web) or `manage.py worker` starts; None: every one."""
    if kind is None:
        return list(specs)
    return [spec for spec in specs if load_backend(spec).kind == kind]
