"""A release step: a management command that must succeed before a deploy's processes start.

`"ARGS": ["migrate", "--noinput"]` is the command and its arguments, as typed after
`manage.py`. The command must exist (`get_commands()`) and its own parser must accept the
arguments, so that a misspelt step fails `manage.py check`, not a deploy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NoReturn

from django.core.management import get_commands, load_command_class

from django_prodserver.backends.base import Backend, Plan, exec_plan
from django_prodserver.errors import OptionError
from django_prodserver.suggestions import did_you_mean

# Commands that start processes rather than finish a step: a release step that ran one
# would never end, and the deploy would never start.
NOT_STEPS = frozenset({"prodserver", "server", "worker", "devserver", "runserver"})
EXAMPLE = '"ARGS": ["migrate", "--noinput"]'


class ReleaseCommand(Backend):
    """`python manage.py COMMAND ARGS...`, run once, in order, before the other processes."""

    kind = "release"
    server = "release step"

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        if self.spec.app:
            raise OptionError(
                f"Process '{self.name}': APP is for the Celery backends; a release step is a "
                f"management command and its arguments, in ARGS."
            )
        words = self.words(overrides)
        command, arguments = words[0], words[1:]
        self.validate(command, arguments)
        return Plan(self.name, ("python", "manage.py", command, *arguments), dict(env or {}))

    def words(self, overrides: Sequence[str]) -> list[str]:
        if isinstance(self.spec.args, Mapping):
            raise OptionError(
                f"Process '{self.name}': a release step's ARGS is the management command and "
                f"its arguments, as a list of words (a dict of options names no command).\n"
                f"Hint: {EXAMPLE}"
            )
        words = list(self.spec.args)
        if overrides:
            # Typed after the name, the words replace the command's arguments, as a
            # server's typed options replace its configured ones.
            words = words[:1] + list(overrides)
        if not words:
            raise OptionError(
                f"Process '{self.name}': ARGS is empty; a release step's ARGS is the "
                f"management command to run and its arguments.\nHint: {EXAMPLE}"
            )
        return words

    def validate(self, command: str, arguments: Sequence[str]) -> None:
        commands = get_commands()
        if command in NOT_STEPS:
            raise OptionError(
                f"Process '{self.name}': `{command}` starts a process that runs until it is "
                f"stopped, so it cannot be a release step, which must finish. Define it as a "
                f"process of its own."
            )
        if command not in commands:
            raise OptionError(
                f"Process '{self.name}': there is no management command `{command}`"
                f"{did_you_mean(command, list(commands), quote='`')}. ARGS starts with the "
                f"command (`python manage.py help` lists them).\nHint: {EXAMPLE}"
            )
        parser = load_command_class(commands[command], command).create_parser("manage.py", command)

        def reject(message: str) -> NoReturn:
            raise OptionError(
                f"Process '{self.name}': `manage.py {command}` rejects the arguments "
                f"{' '.join(arguments)!r}: {message.rstrip('.')}."
            )

        parser.error = reject  # type: ignore[method-assign]
        parser.parse_args(list(arguments))

    def command_argv(self, plan: Plan) -> list[str]:
        """The plan's line as this interpreter runs it: `python manage.py COMMAND ...`."""
        from django_prodserver.lifecycle.replacing import this_command_prefix

        return [*this_command_prefix(), *plan.argv[2:]]

    def run(self, plan: Plan) -> int | None:
        exec_plan(Plan(plan.process, tuple(self.command_argv(plan)), plan.env))
