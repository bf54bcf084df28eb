"""Running `manage.py check` and `manage.py prodserver` in this process, as a user runs them.

Tests run `check --tag=prodserver`: the other apps' checks are not under test, and a server
module another test imported may have registered one of its own (daphne's).

`run_from_argv` is the door a shell goes through: an error a user is meant to read ends in
`SystemExit` with its message on stderr; anything else it raises is a traceback.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import BaseCommand

from django_prodserver.management.commands.check import Command as CheckCommand
from django_prodserver.management.commands.prodserver import Command as ProdserverCommand

COMMANDS: dict[str, type[BaseCommand]] = {"check": CheckCommand, "prodserver": ProdserverCommand}
EXPORT_FORMATS = ("procfile", "systemd", "supervisor", "compose", "kubernetes")
SYNTAX_ERROR_MODULE = "hostile_syntax_error"


@dataclass(frozen=True)
class Outcome:
    status: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def manage(*argv: str) -> Outcome:
    """`manage.py ARGV`: its exit status and output; any other exception propagates."""
    stdout, stderr = io.StringIO(), io.StringIO()
    command = COMMANDS[argv[0]](stdout=stdout, stderr=stderr)
    status = 0
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        try:
            command.run_from_argv(["manage.py", *argv])
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 1
    return Outcome(status, stdout.getvalue(), stderr.getvalue())


def write_syntax_error_module(folder: Path) -> None:
    """A backend module that cannot be compiled (it cannot live in the repository: ruff)."""
    (folder / f"{SYNTAX_ERROR_MODULE}.py").write_text("class Broken(:\n    pass\n")
