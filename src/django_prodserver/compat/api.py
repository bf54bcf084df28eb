"""django-prodserver 3.0's backend API: the base classes its backends subclass.

`django_prodserver.backends.base` hands them on at 3.0's path; `wrapper.py` runs a backend
written against them under every command.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class BaseProcessBackend:
    """The backend API of django-prodserver 3.0, kept so that its backends run unchanged.

    The constructor takes the process definition as keyword arguments (`BACKEND`,
    `ARGS`, `APP`, ...). A dict of ARGS becomes `--name=value` words (None: a bare
    `--name`), a string is one word, a list is taken as it is. `prep_server_args()`
    returns those words (override it to add fixed ones); `start_server(*args)` runs the
    process in the foreground. `Backend` is the API to write new backends against.
    """

    def __init__(self, **definition: Any) -> None:
        self.definition = definition
        self.app: str | None = definition.get("APP")
        self.args = self.words_of(definition.get("ARGS") or {})

    @staticmethod
    def words_of(args: Any) -> list[str]:
        if isinstance(args, Mapping):
            return [
                f"--{name}" if value is None else f"--{name}={value}"
                for name, value in args.items()
            ]
        if isinstance(args, str):
            return [args]
        return [str(word) for word in args]

    def prep_server_args(self) -> list[str]:
        return list(self.args)

    def start_server(self, *args: str) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement start_server(*args).")


class BaseServerBackend(BaseProcessBackend):
    """A web server, in django-prodserver 3.0's API (`manage.py server` starts these)."""


class BaseWorkerBackend(BaseProcessBackend):
    """A background worker, in django-prodserver 3.0's API (`manage.py worker` starts these)."""
