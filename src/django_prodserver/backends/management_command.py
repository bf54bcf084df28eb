"""The shared shape of a process that a Django management command runs in this process.

A worker's command (`db_worker`, `qcluster`) or `runserver` (`backends/dev/`): the two
share everything but their kind.

Options come from the command's own argparse parser, so every option it documents is
accepted under its own name and checked by its own parser. The plan is the line a person
would type (`python manage.py db_worker --queue-name=emails`); `run()` calls the command
in this process, so the PID that gets SIGTERM is the worker's.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, NoReturn

from django.apps import apps
from django.conf import settings
from django.core.management import BaseCommand, load_command_class

from django_prodserver.backends.base import Backend, Plan
from django_prodserver.errors import OptionError, ProdserverError
from django_prodserver.options import (
    OptionTable,
    OptionValue,
    normalize,
    override,
    render,
)
from django_prodserver.options.from_argparse import argparse_option_table
from django_prodserver.packages import require
from django_prodserver.preflight.database_tables import check_migrated, databases_of

# Options every Django command has that belong to the whole process, not to one worker:
# prodserver's own --settings and --pythonpath set them, and --version only prints.
PROCESS_LEVEL_OPTIONS = ("--settings", "--pythonpath", "--version", "--help")


class ManagementCommandBackend(Backend):
    """A process that a management command runs: a worker by default, runserver too."""

    kind = "worker"
    # The management command, the app that provides it (as listed in INSTALLED_APPS),
    # the module that must import, and the pip extra that installs it.
    command: ClassVar[str]
    app_name: ClassVar[str]
    module: ClassVar[str]
    extra: ClassVar[str]
    # The distribution's name in a "needs X, which is not installed" message.
    package: ClassVar[str | None] = None
    # A setting the framework cannot run without: its name, what the framework reads from
    # it, what it does without it (" (without it, ...)", or ""), and an example value.
    required_setting: ClassVar[str | None] = None
    required_setting_holds: ClassVar[str] = "its configuration"
    required_setting_default: ClassVar[str] = ""
    required_setting_example: ClassVar[str] = ""
    # Names users bring from elsewhere that are not options of the command, and why
    # (normalized name -> explanation).
    not_options: ClassVar[Mapping[str, str]] = {}
    # The app's tables hold the queue (or the results): its migrations must be applied.
    needs_tables: ClassVar[bool] = False

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        self.require_packages()
        if self.spec.app:
            raise OptionError(
                f"Process '{self.name}': APP is for the Celery backends; {self.server} "
                f"takes its configuration from the project's settings."
            )
        self.check_installed()
        table = self.option_table()
        self.refuse_other_names(table, self.spec.args)
        self.refuse_other_names(table, overrides)
        options, positional = self.resolved_options(table, overrides)
        options = override(table.from_mapping(self.default_options(options), self.name), options)
        arguments = [*self.render_options(options), *positional]
        plan = Plan(
            self.name,
            ("python", "manage.py", self.command, *arguments),
            dict(env or {}),
            options=tuple(options),
            positionals=tuple(positional),
        )
        self.check_plan(plan)
        self.validate(arguments)
        return plan

    def run(self, plan: Plan) -> int | None:
        os.environ.update(plan.env)
        if self.needs_tables:
            check_migrated(
                self.name, f"{self.server} keeps its tasks", self.app_name, self.databases()
            )
        self.load_command().run_from_argv(["manage.py", *plan.argv[2:]])
        return None

    def databases(self) -> set[str]:
        """The databases that hold the app's tables."""
        return databases_of(self.app_name)

    def require_packages(self) -> None:
        require(self.module, self.extra, self.name, what=self.package or self.server)

    def required_apps(self) -> tuple[str, ...]:
        """The apps INSTALLED_APPS must hold, in the order to add them."""
        return (self.app_name,)

    def check_installed(self) -> None:
        missing = [app for app in self.required_apps() if not apps.is_installed(app)]
        if missing:
            names = ", ".join(f"'{app}'" for app in missing)
            line = ", ".join(f'"{app}"' for app in missing)
            raise ProdserverError(
                f"Process '{self.name}': {self.server} needs {names} in INSTALLED_APPS "
                f"(it provides the `{self.command}` command).\n"
                f"Add to your settings: INSTALLED_APPS += [{line}]"
            )
        setting = self.required_setting
        if setting is not None and getattr(settings, setting, None) is None:
            raise ProdserverError(
                f"Process '{self.name}': {self.package or self.server} reads "
                f"{self.required_setting_holds} from the {setting} setting, which is not "
                f"set{self.required_setting_default}.\n"
                f"Add it: {setting} = {self.required_setting_example}"
            )

    def default_options(self, configured: Sequence[OptionValue]) -> Mapping[str, object]:
        """Options the plan adds when the configuration leaves them unset."""
        return {}

    def render_options(self, options: Sequence[OptionValue]) -> list[str]:
        """The options as the command's line writes them."""
        return render(options)

    def check_plan(self, plan: Plan) -> None:
        """What the command's parser cannot see; raise OptionError (or ProdserverError)."""

    def refuse_other_names(
        self, table: OptionTable, args: Mapping[str, object] | Iterable[str]
    ) -> None:
        """Stop at a name of `not_options`, with its explanation."""
        names = args if isinstance(args, Mapping) else [a for a in args if a.startswith("-")]
        for name in names:
            if not isinstance(name, str):
                continue
            name = name.split("=", 1)[0]
            why = self.not_options.get(normalize(name))
            if not why:
                continue
            known = normalize(name) in table.names()
            what = f"`{name}` cannot be used here" if known else f"there is no option `{name}`"
            raise OptionError(f"Process '{self.name}': for {self.server}, {what}: {why}.")

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
