"""Huey: the `run_huey` consumer of `huey.contrib.djhuey`, run in this process.

Huey stops gracefully (the tasks in progress finish) on one signal and interrupts them on
the other; its default graceful signal is SIGINT, so the SIGTERM that systemd, Docker and
Kubernetes send would stop it in the middle of its tasks, and lose them (huey has no
acknowledgement: a task taken from the queue is gone from it). The plan therefore passes
`--graceful-signal=TERM`, or SIGINT's `INT` when STOP_SIGNAL says SIGINT, unless the project
chose one itself; a choice that contradicts STOP_SIGNAL is an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from django_prodserver.backends.base import Plan
from django_prodserver.backends.management_command import ManagementCommandBackend
from django_prodserver.backends.task_framework import TaskFrameworkWorker
from django_prodserver.errors import OptionError, ProdserverError
from django_prodserver.options import Option, OptionTable, OptionValue
from django_prodserver.preflight.redis import probe_redis

SETTING = "HUEY"
# STOP_SIGNAL -> huey's name for it in --graceful-signal.
GRACEFUL_SIGNALS = {"SIGTERM": "TERM", "SIGINT": "INT"}
HUEY_DEFAULT_GRACEFUL = "INT"


class HueyConsumer(TaskFrameworkWorker, ManagementCommandBackend):
    """`python manage.py run_huey [options]`.

    It runs huey's own tasks and those of Django's task framework that huey's task backend
    (`huey.contrib.djhuey.tasks_backend.HueyBackend`) puts on HUEY's queue.
    """

    server = "huey"
    worker_name = "run_huey"
    command = "run_huey"
    app_name = "huey.contrib.djhuey"
    module = "huey"
    extra = "huey"
    required_setting = SETTING
    required_setting_holds = "its queue"
    required_setting_default = (
        " (without it, huey uses a Redis on localhost and a queue named after the database)"
    )
    required_setting_example = (
        '{"huey_class": "huey.RedisHuey", "name": "myproject", '
        '"connection": {"url": "redis://localhost:6379/0"}, "immediate": False}'
    )

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        plan = super().plan(overrides, env)
        wanted = GRACEFUL_SIGNALS.get(self.spec.stop_signal)
        chosen, where = self.chosen_graceful_signal(plan)
        if wanted is not None and chosen != wanted:
            raise OptionError(
                f"Process '{self.name}': huey stops gracefully on SIG{chosen} "
                f"(graceful_signal in {where}), but this process is stopped with "
                f"{self.spec.stop_signal}, on which huey interrupts the tasks in progress and "
                f"they are lost. Leave graceful_signal out (the process then passes "
                f'--graceful-signal={wanted}), or set "STOP_SIGNAL": "SIG{chosen}".'
            )
        return plan

    def default_options(self, configured: Sequence[OptionValue]) -> Mapping[str, object]:
        """`--graceful-signal` for the STOP_SIGNAL, unless the project chose one."""
        if any(item.option.key == "graceful_signal" for item in configured):
            return {}
        if consumer_settings().get("graceful_signal") is not None:
            return {}
        wanted = GRACEFUL_SIGNALS.get(self.spec.stop_signal)
        return {"graceful_signal": wanted} if wanted not in (None, HUEY_DEFAULT_GRACEFUL) else {}

    def run(self, plan: Plan) -> int | None:
        from huey.contrib.djhuey import HUEY
        from huey.storage import RedisStorage

        if HUEY.immediate:
            raise ProdserverError(
                f"Process '{self.name}': HUEY is in immediate mode (the default when DEBUG "
                f"is True): tasks run in the process that calls them, and the consumer "
                f"refuses to start.\n"
                f'Set "immediate": False in HUEY to run tasks in the consumer.'
            )
        if isinstance(HUEY.storage, RedisStorage):
            probe_redis(HUEY.storage.conn, self.name, "Huey", SETTING)
        return super().run(plan)

    def chosen_graceful_signal(self, plan: Plan) -> tuple[str, str]:
        """The graceful signal the consumer will use, and where it was chosen."""
        on_line = plan.value("graceful_signal")
        if on_line is not None:
            return str(on_line), "ARGS"
        consumer = consumer_settings().get("graceful_signal")
        if consumer is not None:
            return str(consumer), f'{SETTING}["consumer"]'
        return HUEY_DEFAULT_GRACEFUL, "huey's default"

    def option_table(self) -> OptionTable:
        """run_huey's options, under its flags and the names of HUEY["consumer"].

        `--no-periodic`, `--disable-health-check` and `--quiet` store False into
        `periodic`, `check_worker_health` and `verbose`: named by their flag, True turns
        them on; named by the setting (`"periodic": False`), False does.
        """
        options: list[Option] = []
        for action in self.parser()._actions:
            if not action.option_strings or action.dest == "help":
                continue
            flags = tuple(action.option_strings)
            long_flag = next(flag for flag in flags if flag.startswith("--"))
            flag_key = long_flag.lstrip("-").replace("-", "_")
            if action.nargs != 0:
                options.append(Option(action.dest, flags=flags))
            elif action.const is False:
                options.append(Option(flag_key, flags=flags, takes_value=False))
                if action.dest != "verbose":  # `verbose` is --huey-verbose's own name
                    options.append(Option(action.dest, negative_flags=flags, takes_value=False))
            else:
                options.append(Option(flag_key, flags=flags, takes_value=False))
        return OptionTable(self.server, options)


def consumer_settings() -> Mapping[str, Any]:
    """HUEY["consumer"] when HUEY is a dict: run_huey's defaults for its options."""
    huey = getattr(settings, SETTING, None)
    consumer = huey.get("consumer") if isinstance(huey, Mapping) else None
    return consumer if isinstance(consumer, Mapping) else {}
