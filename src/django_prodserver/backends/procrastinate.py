"""procrastinate: its Django integration's worker, `manage.py procrastinate worker`.

procrastinate keeps its jobs in PostgreSQL (the database of PROCRASTINATE_DATABASE_ALIAS,
`default` unless set) and runs them in an asyncio worker. The options are those of the
`worker` sub-command of procrastinate's own parser, which also checks them. On SIGTERM or
SIGINT the worker takes no new job and waits for those it is running (for at most
`shutdown_graceful_timeout` seconds, when given; then it aborts them).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import NoReturn

from django.conf import settings

from django_prodserver.backends.base import Plan
from django_prodserver.backends.management_command import ManagementCommandBackend
from django_prodserver.errors import OptionError, ProdserverError
from django_prodserver.options import Option, OptionTable
from django_prodserver.preflight.database_tables import check_migrated

SUB_COMMAND = "worker"
POSTGRESQL_ENGINES = ("django.db.backends.postgresql",)


class ProcrastinateWorker(ManagementCommandBackend):
    """`python manage.py procrastinate worker [options]`."""

    server = "procrastinate worker"
    command = "procrastinate"
    app_name = "procrastinate.contrib.django"
    module = "procrastinate"
    extra = "procrastinate"
    package = "procrastinate"
    not_options = {  # noqa: RUF012 - read only
        "app": "the Django integration's app is procrastinate.contrib.django.app, always",
        "processes": "one worker runs `concurrency` jobs at once; for more, run more processes",
        "workers": "one worker runs `concurrency` jobs at once; for more, run more processes",
    }

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        plan = super().plan(overrides, env)
        return Plan(
            plan.process,
            (*plan.argv[:3], SUB_COMMAND, *plan.argv[3:]),
            plan.env,
            options=plan.options,
            positionals=plan.positionals,
        )

    def run(self, plan: Plan) -> int | None:
        alias = self.database_alias()
        check_migrated(self.name, "procrastinate keeps its jobs", self.app_name, {alias})
        return super().run(plan)

    def check_plan(self, plan: Plan) -> None:
        alias = self.database_alias()
        database = settings.DATABASES.get(alias)
        engine = database.get("ENGINE", "") if isinstance(database, Mapping) else None
        if engine is None:
            raise ProdserverError(
                f"Process '{self.name}': procrastinate keeps its jobs in the database "
                f"'{alias}' (PROCRASTINATE_DATABASE_ALIAS), which DATABASES does not define."
            )
        if not str(engine).startswith(POSTGRESQL_ENGINES):
            raise ProdserverError(
                f"Process '{self.name}': procrastinate keeps its jobs in PostgreSQL, and the "
                f"database '{alias}' is {engine}.\nPoint DATABASES['{alias}'] (or "
                f"PROCRASTINATE_DATABASE_ALIAS) at a PostgreSQL database."
            )

    def graceful_timeout(self, plan: Plan) -> float | None:
        timeout = plan.value("shutdown_graceful_timeout")
        return float(timeout) if timeout else None

    def database_alias(self) -> str:
        return str(getattr(settings, "PROCRASTINATE_DATABASE_ALIAS", "default"))

    def worker_parser(self) -> argparse.ArgumentParser:
        """The `worker` sub-command's parser, as procrastinate's command builds it."""
        for action in self.parser()._actions:
            if isinstance(action, argparse._SubParsersAction):
                found: argparse.ArgumentParser = action.choices[SUB_COMMAND]
                return found
        raise ProdserverError(
            f"Process '{self.name}': this procrastinate's command has no `{SUB_COMMAND}`."
        )

    def option_table(self) -> OptionTable:
        """The worker's options; `--wait`/`--one-shot` and `--listen-notify` switch both ways."""
        options = []
        for action in self.worker_parser()._actions:
            if not action.option_strings or isinstance(action, argparse._HelpAction):
                continue
            flags = tuple(action.option_strings)
            key = next(f for f in flags if f.startswith("--")).lstrip("-").replace("-", "_")
            if action.nargs == 0:
                named = getattr(action, "negative", None)
                negative = tuple(
                    flag
                    for flag in flags
                    if flag == named or (named is None and flag.startswith("--no-"))
                )
                positive = tuple(flag for flag in flags if flag not in negative)
                options.append(Option(key, positive, negative, takes_value=False))
            else:
                options.append(Option(key, flags))
        return OptionTable(self.server, options)

    def validate(self, arguments: Sequence[str]) -> None:
        parser = self.worker_parser()
        parser.error = self._worker_parser_error  # type: ignore[method-assign]
        try:
            parser.parse_args(list(arguments))
        except argparse.ArgumentError as error:
            self._worker_parser_error(str(error))

    def _worker_parser_error(self, message: str) -> NoReturn:
        raise OptionError(
            f"Process '{self.name}': `manage.py procrastinate worker` rejects the options: "
            f"{message.rstrip('.')}."
        )
