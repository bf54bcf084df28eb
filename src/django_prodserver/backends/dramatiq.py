"""Dramatiq: django-dramatiq's `rundramatiq`, which becomes the `dramatiq` command.

`rundramatiq` finds the actor modules of the installed apps, builds a `dramatiq` command
line and execs it: the process keeps its PID, so the one that gets SIGTERM is dramatiq's
main process, which stops its worker processes gracefully. `--queues` and `--path` take
several values (`--queues high default`); in ARGS they are lists.
"""

from __future__ import annotations

import dataclasses
import io
import os
import sys
from collections.abc import Mapping, Sequence

from django_prodserver.backends.base import Plan, with_project_on_path
from django_prodserver.backends.management_command import ManagementCommandBackend
from django_prodserver.options import OptionTable, OptionValue
from django_prodserver.preflight.redis import probe_redis

SETTING = "DRAMATIQ_BROKER"


class DramatiqWorker(ManagementCommandBackend):
    """`python manage.py rundramatiq [options]`."""

    server = "django-dramatiq"
    command = "rundramatiq"
    app_name = "django_dramatiq"
    module = "django_dramatiq"
    extra = "dramatiq"
    required_setting = SETTING
    required_setting_holds = "its broker"
    required_setting_default = " (without it, it connects to a RabbitMQ on localhost)"
    required_setting_example = (
        '{"BROKER": "dramatiq.brokers.redis.RedisBroker", '
        '"OPTIONS": {"url": "redis://localhost:6379/0"}}'
    )

    # A multi-value option (`--queues a b`) is read as a repeated one (`--queues=a
    # --queues=b`, or a list in ARGS), and written after one flag: argparse keeps only
    # the last of a repeat.

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        if isinstance(self.spec.args, Mapping):
            return super().configured_options(table)
        return table.from_argv(spread_values(self.spec.args, self.multi_value_flags()), self.name)

    def resolved_options(
        self, table: OptionTable, overrides: Sequence[str]
    ) -> tuple[list[OptionValue], list[str]]:
        return super().resolved_options(table, spread_values(overrides, self.multi_value_flags()))

    def render_options(self, options: Sequence[OptionValue]) -> list[str]:
        multi = self.multi_value_flags()
        return [
            word
            for item in options
            for word in (
                [item.option.long_flag, *item.values]
                if item.option.long_flag in multi
                else item.tokens
            )
        ]

    def run(self, plan: Plan) -> int | None:
        self.probe_broker()
        # rundramatiq execs `dramatiq`, a new program: it gets the line's environment
        # and the project's folder on its path, and the lines it printed before.
        os.environ.update(with_project_on_path({**os.environ, **plan.env}))
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(line_buffering=True)
        return super().run(plan)

    def probe_broker(self) -> None:
        import dramatiq
        from dramatiq.brokers.redis import RedisBroker

        broker = dramatiq.get_broker()
        if isinstance(broker, RedisBroker):
            probe_redis(broker.client, self.name, "Dramatiq", SETTING)

    def multi_value_flags(self) -> frozenset[str]:
        """Flags of the options that take several values (`--queues a b`)."""
        return frozenset(
            flag
            for action in self.parser()._actions
            if action.nargs in ("*", "+")
            for flag in action.option_strings
        )

    def option_table(self) -> OptionTable:
        # A multi-value option is given a list in ARGS, like a repeated option; the plan
        # then writes its values after one flag (see gather_values).
        table = super().option_table()
        multi = self.multi_value_flags()
        return OptionTable(
            table.server,
            [
                dataclasses.replace(option, repeatable=True, optional_value=True)
                if set(option.flags) & multi
                else option
                for option in table.options
            ],
        )


def spread_values(argv: Sequence[str], multi: frozenset[str]) -> list[str]:
    """`--queues a b` -> `--queues=a --queues=b`, the form the option table reads."""
    spread: list[str] = []
    tokens = list(argv)
    while tokens:
        token = tokens.pop(0)
        if token not in multi:
            spread.append(token)
            continue
        values = []
        while tokens and not tokens[0].startswith("-"):
            values.append(tokens.pop(0))
        spread.extend([f"{token}={value}" for value in values] or [token])
    return spread
