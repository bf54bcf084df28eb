"""The shared shape of a worker that a Django management command runs (`db_worker`, `qcluster`).

Options come from the command's own argparse parser, so every option it documents is
accepted under its own name and checked by its own parser. The plan is the line a person
would type (`python manage.py db_worker --queue-name emails`); `run()` calls the command
in this process, so the PID that gets SIGTERM is the worker's.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import ClassVar, NoReturn

from django.apps import apps
from django.core.management import BaseCommand, load_command_class

from django_prodserver.backends.argparse_options import argparse_option_table
from django_prodserver.backends.base import Backend, Plan
from django_prodserver.errors import OptionError, ProdserverError
from django_prodserver.options import OptionTable, override, render
from django_prodserver.packages import require

# Options every Django command has that belong to the whole process, not to one worker:
# prodserver's own --settings and --pythonpath set them, and --version only prints.
PROCESS_LEVEL_OPTIONS = ("--settings", "--pythonpath", "--version", "--help")


class ManagementCommandBackend(Backend):
    """A worker started by a management command that a Django app provides."""

    kind = "worker"
    # The management command, the app that provides it (as listed in INSTALLED_APPS),
    # the module that must import, and the pip extra that installs it.
    command: ClassVar[str]
    app_name: ClassVar[str]
    module: ClassVar[str]
    extra: ClassVar[str]

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        require(self.module, self.extra, self.name, what=self.server)
        if self.spec.app:
            raise OptionError(
                f"Process '{self.name}': APP is for the Celery backends; {self.server} "
                f"takes its configuration from the project's settings."
            )
        self.check_installed()
        table = self.option_table()
        if isinstance(self.spec.args, Mapping):
            configured = table.from_mapping(self.spec.args, self.name)
            positional: list[str] = []
        else:
            configured, positional = table.from_argv(self.spec.args, self.name)
        typed, typed_positional = table.from_argv(overrides, self.name)
        arguments = [*render(override(configured, typed)), *(typed_positional or positional)]
        self.validate(arguments)
        return Plan(self.name, ("python", "manage.py", self.command, *arguments), dict(env or {}))

    def run(self, plan: Plan) -> int | None:
        self.load_command().run_from_argv(["manage.py", *plan.argv[2:]])
        return None

    def check_installed(self) -> None:
        if not apps.is_installed(self.app_name):
            raise ProdserverError(
                f"Process '{self.name}': {self.server} needs '{self.app_name}' in "
                f"INSTALLED_APPS (it provides the `{self.command}` command).\n"
                f'Add it: INSTALLED_APPS = [..., "{self.app_name}"]'
            )

    def load_command(self) -> BaseCommand:
        return load_command_class(self.app_name, self.command)

    def parser(self) -> argparse.ArgumentParser:
        parser = self.load_command().create_parser("manage.py", self.command)
        for action in list(parser._actions):
            if set(action.option_strings) & set(PROCESS_LEVEL_OPTIONS):
                parser._remove_action(action)
                for flag in action.option_strings:
                    parser._option_string_actions.pop(flag, None)
        return parser

    def option_table(self) -> OptionTable:
        return argparse_option_table(self.server, self.parser())

    def validate(self, arguments: Sequence[str]) -> None:
        """Parse the arguments with the command's own parser; raise OptionError."""
        parser = self.parser()
        parser.error = self._parser_error  # type: ignore[method-assign]
        parser.parse_args(list(arguments))

    def _parser_error(self, message: str) -> NoReturn:
        raise OptionError(
            f"Process '{self.name}': `manage.py {self.command}` rejects the options: "
            f"{message.rstrip('.')}."
        )
