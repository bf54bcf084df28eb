"""Celery's worker, beat and Flower: options from Celery's own commands; `celery` runs them.

The plan is the line a person would type, `celery -A myproject.celery.app worker
--concurrency=4`, checked by the same click commands that `celery` itself parses with
(and, for Flower, by Flower's own option definitions). `run()` checks that the broker
answers, then becomes `python -m celery ...` in this same process (same PID), so the
signals a process manager sends reach Celery itself.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django_prodserver._celery import beat
from django_prodserver._celery.app import load_app
from django_prodserver._celery.commands import celery_command, global_command, sub_command
from django_prodserver._celery.flower import (
    auth_option_is_valid,
    check_broker_api,
    convert_flower_value,
    flower_definitions,
    flower_environment,
)
from django_prodserver.backends.base import Backend, Plan, exec_plan
from django_prodserver.backends.task_framework import (
    DEFAULT_QUEUE,
    TaskBackendSettings,
    TaskFrameworkWorker,
)
from django_prodserver.errors import MissingPackageError, OptionError, ProdserverError
from django_prodserver.masking import mask_secrets
from django_prodserver.options import Option, OptionTable, OptionValue, normalize, parse_bool
from django_prodserver.options import render as render_options
from django_prodserver.options.from_click import click_option_table
from django_prodserver.packages import require
from django_prodserver.preflight.celery_broker import broker_url, check_broker, check_transport

if TYPE_CHECKING:
    from celery import Celery

# The options of the `celery` command itself, written before the sub-command.
GLOBAL_OPTIONS = frozenset(
    {
        "app",
        "broker",
        "result_backend",
        "loader",
        "config",
        "workdir",
        "no_color",
        "quiet",
        "skip_checks",
    }
)
# Options whose value is a comma-separated list: a list in ARGS is joined with commas.
COMMA_SEPARATED = frozenset({"queues", "exclude_queues", "include", "autoscale"})
# Options whose value Celery also reads from the environment (celery's own
# `Settings.broker_url` and `.result_backend` look there first): a secret in one goes there,
# not on the command line that `ps` and /proc/PID/cmdline show every user of the machine.
FROM_ENVIRONMENT = {"broker": "CELERY_BROKER_URL", "result_backend": "CELERY_RESULT_BACKEND"}
# Pools that live in a package of their own.
POOL_PACKAGES = {"eventlet": "eventlet", "gevent": "gevent"}
# How long `--probe` waits for the worker's answer to a ping.
PING_SECONDS = 5.0


class CeleryBackend(Backend):
    """A `celery -A APP <sub-command>` process; the subclasses name the sub-command."""

    kind = "worker"
    server = "celery"
    sub_command: ClassVar[str]
    extra: ClassVar[str] = "celery"

    @cached_property
    def app(self) -> Celery:
        """The project's Celery application: loaded once, however often it is asked for."""
        return load_app(self.name, type(self).__name__, self.spec.app)

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        require("celery", self.extra, self.name, what="Celery")
        app = self.app
        table = self.option_table(app)
        options, positional = self.resolved_options(table, overrides)
        options = [*options, *self.defaults(app, table, options)]
        self.refuse(options)
        before = [item for item in options if item.option.key in GLOBAL_OPTIONS]
        after = [item for item in options if item.option.key not in GLOBAL_OPTIONS]
        global_argv = ["-A", str(self.spec.app), *render_options(before)]
        command_argv = [*render_options(after), *positional]
        self.validate(app, global_argv, command_argv)
        secret = self.secrets_for_the_environment(options)
        if secret:
            moved = {item.option.key for item in options if self.variable_for(item) in secret}
            before = [item for item in before if item.option.key not in moved]
            after = [item for item in after if item.option.key not in moved]
            global_argv = ["-A", str(self.spec.app), *render_options(before)]
            command_argv = [*render_options(after), *positional]
        argv = ("celery", *global_argv, self.sub_command, *command_argv)
        plan = Plan(
            self.name,
            argv,
            {**(env or {}), **secret},
            module="celery",
            options=tuple(options),
            note=(
                f"{' and '.join(secret)} in the environment rather than on the command line, "
                f"which every user of the machine can read"
            )
            if secret
            else None,
        )
        url, _ = broker_url(app, plan.value("broker"))
        check_transport(self.name, app, url)
        return plan

    def run(self, plan: Plan) -> int | None:
        url, source = broker_url(self.app, plan.value("broker"))
        check_broker(self.name, self.app, url, source)
        self.before_start(self.app, plan)
        exec_plan(plan)

    def before_start(self, app: Celery, plan: Plan) -> None:
        """What to check right before the start, beyond the broker."""

    def variable_for(self, item: OptionValue) -> str | None:
        """The environment variable the command reads this option from, if it reads one."""
        return FROM_ENVIRONMENT.get(item.option.key)

    def secrets_for_the_environment(self, options: Sequence[OptionValue]) -> dict[str, str]:
        """The variables that carry the options whose value holds a secret."""
        secret = {}
        for item in options:
            variable = self.variable_for(item)
            line = " ".join(item.tokens)
            if variable and item.values and mask_secrets(line) != line:
                secret[variable] = ",".join(item.values)
        return secret

    # Options

    def option_table(self, app: Celery) -> OptionTable:
        import click

        command = sub_command(self.sub_command, app)
        both = click.Command("celery", params=[*command.params, *celery_command().params])
        return click_option_table("Celery", both)

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        if isinstance(self.spec.args, Mapping):
            return table.from_mapping(self.joined_lists(self.spec.args, table), self.name), []
        return super().configured_options(table)

    def joined_lists(self, args: Mapping[str, Any], table: OptionTable) -> dict[str, Any]:
        """`"queues": ["a", "b"]` is `--queues=a,b`: Celery takes one comma-separated value."""
        joined = dict(args)
        for name, value in args.items():
            if not isinstance(name, str) or not isinstance(value, (list, tuple)):
                continue
            key = table.find(name, self.name)[0].key
            if key in self.comma_separated() and all(_is_scalar(item) for item in value):
                joined[name] = ",".join(str(item) for item in value)
        return joined

    def comma_separated(self) -> frozenset[str]:
        return COMMA_SEPARATED

    def defaults(
        self, app: Celery, table: OptionTable, options: Sequence[OptionValue]
    ) -> list[OptionValue]:
        """Options this backend adds when the configuration leaves them unset."""
        return []

    def refuse(self, options: Sequence[OptionValue]) -> None:
        """Options that cannot work under prodserver, with what to do instead."""
        for item in options:
            if item.option.key == "app":
                raise OptionError(
                    f"Process '{self.name}': the Celery application is set by APP "
                    f"('{self.spec.app}'), not by `app` among the options. Remove `app`."
                )
            if item.option.key == "detach" and item.tokens:
                raise OptionError(
                    f"Process '{self.name}': `detach` would move celery {self.sub_command} "
                    f"to the background and end the process that systemd, Docker or "
                    f"Kubernetes watch. prodserver runs it in the foreground; remove `detach`."
                )

    # Checking a line with Celery's own parser

    def validate(
        self, app: Celery, global_argv: Sequence[str], command_argv: Sequence[str]
    ) -> None:
        import click

        try:
            self.parse(app, global_argv, command_argv)
        except click.ClickException as error:
            raise OptionError(
                f"Process '{self.name}': celery {self.sub_command} rejects the options: "
                f"{error.format_message()}"
            ) from None
        except ImportError as error:
            raise self.missing_package(error) from None
        except ProdserverError:
            raise
        except Exception as error:
            # Celery's own converters can fail without a message of their own: say which
            # option made them fail.
            culprit = next(
                (token for token in command_argv if self.fails(app, global_argv, token)), None
            )
            what = f"`{culprit}`" if culprit else "the options"
            raise OptionError(
                f"Process '{self.name}': celery {self.sub_command} cannot read {what}: "
                f"{type(error).__name__}: {error}"
            ) from None

    def fails(self, app: Celery, global_argv: Sequence[str], token: str) -> bool:
        try:
            self.parse(app, global_argv, [token])
        except Exception:
            return True
        return False

    def parse(self, app: Celery, global_argv: Sequence[str], command_argv: Sequence[str]) -> None:
        """Parse a line as `celery` would: its own options, then the sub-command's."""
        import click
        from celery.bin.base import CLIContext

        parsed = global_command().make_context(
            "celery", [*global_argv], auto_envvar_prefix="CELERY"
        )
        parent = click.Context(
            celery_command(),
            info_name="celery",
            obj=CLIContext(
                app=app,
                no_color=bool(parsed.params.get("no_color")),
                workdir=None,
                quiet=bool(parsed.params.get("quiet")),
            ),
            auto_envvar_prefix="CELERY",
        )
        self.validate_command(app, parent, command_argv)

    def validate_command(self, app: Celery, parent: Any, argv: Sequence[str]) -> None:
        import click

        command = sub_command(self.sub_command, app)
        context = command.make_context(self.sub_command, list(argv), parent=parent)
        if context.args:
            # What Celery does with the words after the options: settings (`key=value`).
            namespace = "worker" if self.sub_command == "worker" else "celery"
            try:
                app.loader.cmdline_config_parser(context.args, namespace=namespace)
            except (KeyError, ValueError) as error:
                raise click.UsageError(
                    f"{' '.join(context.args)}: the words after the options are Celery "
                    f"settings (`namespace_setting=value`), and these are not ({error})."
                ) from None

    def missing_package(self, error: ImportError) -> MissingPackageError:
        package = POOL_PACKAGES.get((error.name or "").split(".")[0], error.name)
        return MissingPackageError(
            f"Process '{self.name}': celery {self.sub_command} needs the package "
            f"'{package}', which is not installed ({error}).\n"
            f"Install it with: pip install {package}"
        )


class CeleryWorker(TaskFrameworkWorker, CeleryBackend):
    """`celery worker`: runs the tasks of the app's queues.

    Those of Django's task framework too, when a `TASKS` alias is django-tasks-celery's
    backend: it sends each task to Celery under the task's dotted path.
    """

    sub_command = "worker"
    worker_name = "celery worker"

    @classmethod
    def task_application(cls, tasks: TaskBackendSettings) -> str | None:
        app = tasks.options.get("CELERY_APP")
        return str(app) if app else None

    @classmethod
    def task_arguments(cls, tasks: TaskBackendSettings) -> dict[str, Any]:
        """The alias's queues; its "default" is the app's default queue, where it sends them."""
        if not tasks.queues_other_than_the_default() or not tasks.queues:
            return {}
        app = cls.task_application(tasks)
        default = load_app("", cls.__name__, app).conf.task_default_queue if app else "celery"
        return {"queues": [default if q == DEFAULT_QUEUE else q for q in tasks.queues]}

    def refuse(self, options: Sequence[OptionValue]) -> None:
        super().refuse(options)
        pool = next((item.values[-1] for item in options if item.option.key == "pool"), None)
        package = POOL_PACKAGES.get(pool or "")
        if package and importlib.util.find_spec(package) is None:
            raise MissingPackageError(
                f"Process '{self.name}': celery worker's pool `{pool}` needs the package "
                f"'{package}', which is not installed.\nInstall it with: pip install {package}"
            )

    def probe(self, plan: Plan) -> str | None:
        from django_prodserver.liveness.celery_ping import node_name, ping_node

        return ping_node(self.app, node_name(plan.value("hostname")), self.name, PING_SECONDS)

    def defaults(
        self, app: Celery, table: OptionTable, options: Sequence[OptionValue]
    ) -> list[OptionValue]:
        embedded_beat = any(item.option.key == "beat" and item.tokens for item in options)
        if not embedded_beat:
            return []
        return beat.schedule_default(app, table, options, "schedule_filename", self.name)


class CeleryBeat(CeleryBackend):
    """`celery beat`: sends the app's periodic tasks when they are due. Run exactly one."""

    sub_command = "beat"
    # Two beats send every periodic task twice: exports never replicate it.
    single_instance = True

    def defaults(
        self, app: Celery, table: OptionTable, options: Sequence[OptionValue]
    ) -> list[OptionValue]:
        return beat.schedule_default(app, table, options, "schedule", self.name)

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        plan = super().plan(overrides, env)
        beat.check_scheduler(self.name, self.scheduler(plan))
        return plan

    def scheduler(self, plan: Plan) -> str:
        return beat.configured_scheduler(self.app, plan.value("scheduler"))

    def state_files(self, plan: Plan) -> str | None:
        """Its schedule file, where nothing named another place for it."""
        if plan.value("schedule") != beat.default_schedule():
            return None
        return "celery beat's schedule"

    def before_start(self, app: Celery, plan: Plan) -> None:
        beat.check_tables(self.name, self.scheduler(plan))
        schedule = plan.value("schedule")
        if schedule is None:
            return
        folder = os.path.dirname(os.path.abspath(schedule))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            problem = "does not exist" if not os.path.isdir(folder) else "is not writable"
            raise ProdserverError(
                f"Process '{self.name}': celery beat keeps its schedule in {schedule}, but "
                f"the folder {folder} {problem}. Create it (writable by the user that runs "
                f"beat), or set `schedule` in ARGS to a file in a writable folder."
            )


class CeleryFlower(CeleryBackend):
    """Flower, Celery's monitoring web UI (`celery flower`), with Flower's own options."""

    kind = "web"
    sub_command = "flower"
    extra = "flower"

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        require("flower", self.extra, self.name, what="Flower")
        return super().plan(overrides, env)

    def option_table(self, app: Celery) -> OptionTable:
        celery_options = super().option_table(app).options
        ours = [option for option in celery_options if option.key in GLOBAL_OPTIONS]
        flower_options = [
            Option(name, flags=(f"--{normalize(name)}",), optional_value=definition.type is bool)
            for name, definition in flower_definitions().items()
        ]
        return OptionTable("Flower", [*flower_options, *ours])

    def comma_separated(self) -> frozenset[str]:
        return frozenset(name for name, d in flower_definitions().items() if d.multiple)

    def variable_for(self, item: OptionValue) -> str | None:
        """Flower reads each of its options from `FLOWER_NAME` (`FLOWER_BASIC_AUTH`)."""
        if item.option.key in GLOBAL_OPTIONS:
            return super().variable_for(item)
        return f"FLOWER_{item.option.key.upper()}"

    def joined_lists(self, args: Mapping[str, Any], table: OptionTable) -> dict[str, Any]:
        """Lists joined, and a switch turned off written as `--name=false`."""
        values = super().joined_lists(args, table)
        definitions = flower_definitions()
        for name, value in values.items():
            if not isinstance(name, str) or parse_bool(value) is not False:
                continue
            definition = definitions.get(table.find(name, self.name)[0].key)
            if definition is not None and definition.type is bool:
                values[name] = "false"
        return values

    def defaults(
        self, app: Celery, table: OptionTable, options: Sequence[OptionValue]
    ) -> list[OptionValue]:
        """`--port=$PORT` on a platform that sets PORT, unless an address is configured."""
        port = os.environ.get("PORT")
        configured = {item.option.key for item in options}
        if not port or configured & {"port", "unix_socket"}:
            return []
        return table.from_mapping({"port": port}, self.name)

    def validate_command(self, app: Celery, parent: Any, argv: Sequence[str]) -> None:
        """Each value as Flower converts it, then the checks Flower makes once started."""
        values = {
            **flower_environment(self.name),
            **{name: value for name, value, _ in self.flower_values(argv)},
        }
        if values.get("auth") and not auth_option_is_valid(values["auth"]):
            raise OptionError(
                f"Process '{self.name}': Flower rejects `auth` {values['auth']!r}: it is a "
                f"regular expression of e-mail addresses with at most one `*`, and none in "
                f"the domain nor together with `|`."
            )
        if values.get("broker_api"):
            try:
                check_broker_api(values["broker_api"])
            except ValueError as error:
                raise OptionError(
                    f"Process '{self.name}': Flower rejects `broker-api`: {error}."
                ) from None
        if bool(values.get("certfile")) != bool(values.get("keyfile")):
            raise OptionError(
                f"Process '{self.name}': Flower serves HTTPS only with both `certfile` and "
                f"`keyfile`; set both, or neither."
            )

    def flower_values(self, argv: Sequence[str]) -> list[tuple[str, Any, str]]:
        """(name, converted value, token) for each of Flower's options in `argv`."""
        definitions = {normalize(name): d for name, d in flower_definitions().items()}
        values = []
        for token in argv:
            if not token.startswith("--"):
                raise OptionError(
                    f"Process '{self.name}': Flower takes options only (`--name=value`), "
                    f"got `{token}`; Flower would ignore it."
                )
            name, has_value, text = token[2:].partition("=")
            definition = definitions[normalize(name)]
            values.append((definition.name, self.flower_value(definition, has_value, text), token))
        return values

    def flower_value(self, definition: Any, has_value: str, text: str) -> Any:
        if definition.type is bool:
            switch = parse_bool(text) if has_value else True
            if switch is None:
                raise OptionError(
                    f"Process '{self.name}': Flower's `{normalize(definition.name)}` is "
                    f"True or False, got '{text}'."
                )
            return switch
        return convert_flower_value(definition, text, self.name, f"`{normalize(definition.name)}`")


def _is_scalar(value: object) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)
