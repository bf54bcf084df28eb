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
from django_prodserver.backends.redis_probe import probe_redis
from django_prodserver.options import OptionTable

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

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        self.require_packages()  # before the parser is read, for a clear message
        self.check_installed()
        multi = self.multi_value_flags()
        spec = self.spec
        if not isinstance(spec.args, Mapping):
            spec = dataclasses.replace(spec, args=tuple(spread_values(spec.args, multi)))
        flat = ManagementCommandBackend.plan(type(self)(spec), spread_values(overrides, multi), env)
        arguments = gather_values(flat.argv[3:], multi)
        self.validate(arguments)
        return dataclasses.replace(flat, argv=(*flat.argv[:3], *arguments))

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


def gather_values(argv: Sequence[str], multi: frozenset[str]) -> list[str]:
    """`--queues=a --queues=b` -> `--queues a b`: argparse keeps only the last of a repeat."""
    gathered: list[str] = []
    groups: dict[str, list[str]] = {}
    for token in argv:
        flag, equals, value = token.partition("=")
        if flag not in multi:
            gathered.append(token)
        elif flag in groups:
            groups[flag].extend([value] if equals else [])
        else:
            groups[flag] = [value] if equals else []
            gathered.append(flag)
    return [
        word
        for token in gathered
        for word in ([token, *groups[token]] if token in groups else [token])
    ]
