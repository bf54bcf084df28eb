"""RQ: django-rq's `rqworker`, run in this process.

The queues are `rqworker`'s positional arguments; in an ARGS dict they are the `queues` key
(`"queues": ["high", "default"]`). Each must be a queue of `RQ_QUEUES`, and one worker's
queues must share one Redis connection, as django-rq requires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from django_prodserver.backends.base import Plan
from django_prodserver.backends.management_command import ManagementCommandBackend
from django_prodserver.backends.task_framework import (
    TaskBackendSettings,
    TaskFrameworkWorker,
    configured_value,
)
from django_prodserver.errors import OptionError, ProdserverError
from django_prodserver.options import OptionTable, OptionValue, normalize
from django_prodserver.packages import require
from django_prodserver.preflight.redis import probe_redis
from django_prodserver.processes import ProcessSpec
from django_prodserver.suggestions import did_you_mean

SETTING = "RQ_QUEUES"
# ARGS key for rqworker's positional queue names; with none, rqworker works on "default".
QUEUES_KEY = "queues"
DEFAULT_QUEUE = "default"
# The job class that runs the tasks of Django's task framework: django-tasks-rq's, or that of
# django-tasks before 0.12, whose `django_tasks.backends.rq` held the RQ backend.
TASKS_JOB_CLASS = "django_tasks_rq.Job"
OLD_TASKS_JOB_CLASS = "django_tasks.backends.rq.Job"


class RQWorker(TaskFrameworkWorker, ManagementCommandBackend):
    """`python manage.py rqworker [options] [queue ...]`."""

    server = "django-rq"
    worker_name = "rqworker"
    command = "rqworker"
    app_name = "django_rq"
    module = "django_rq"
    extra = "rq"
    required_setting = SETTING
    required_setting_holds = "its queues"
    required_setting_example = '{"default": {"URL": "redis://localhost:6379/0"}}'

    @classmethod
    def task_arguments(cls, tasks: TaskBackendSettings) -> dict[str, Any]:
        """The job class of the task framework, and the alias's queues (`[]`: all of RQ_QUEUES)."""
        old = tasks.path.startswith("django_tasks.backends.rq")
        arguments: dict[str, Any] = {"job_class": OLD_TASKS_JOB_CLASS if old else TASKS_JOB_CLASS}
        if tasks.queues_other_than_the_default():
            queues = getattr(settings, SETTING, None)
            every = list(queues) if isinstance(queues, Mapping) else []
            arguments[QUEUES_KEY] = list(tasks.queues) or every
        return arguments

    @classmethod
    def runs_tasks_of(cls, spec: ProcessSpec, tasks: TaskBackendSettings) -> bool:
        """Only with the job class that calls a task of the framework."""
        job_class = configured_value(spec.args, "job_class", "")
        return job_class in (TASKS_JOB_CLASS, OLD_TASKS_JOB_CLASS)

    def require_packages(self) -> None:
        super().require_packages()
        if configured_value(self.spec.args, "job_class", "") == TASKS_JOB_CLASS:
            require("django_tasks_rq", "django-tasks-rq", self.name, what="django-tasks-rq")

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        """ARGS' `queues` are rqworker's positional arguments; the rest are options."""
        args = self.spec.args
        if not isinstance(args, Mapping) or not any(is_queues_key(key) for key in args):
            return super().configured_options(table)
        options = {key: value for key, value in args.items() if not is_queues_key(key)}
        return table.from_mapping(options, self.name), configured_queues(args, self.name)

    def check_plan(self, plan: Plan) -> None:
        self.check_queues(plan.positionals)

    def probe(self, plan: Plan) -> str | None:
        from django_rq import get_connection

        from django_prodserver.liveness.rq_heartbeat import check_heartbeat

        names = plan.positionals or (DEFAULT_QUEUE,)
        return check_heartbeat(get_connection(names[0]), self.name, names, plan.value("name"))

    def run(self, plan: Plan) -> int | None:
        from django_rq import get_connection

        from django_prodserver.serving.rq import install

        names = plan.positionals or (DEFAULT_QUEUE,)
        probe_redis(get_connection(names[0]), self.name, "RQ", SETTING)
        # RQ's stop races its pubsub thread and can hang for a minute (serving/rq.py).
        install()
        return super().run(plan)

    def check_queues(self, names: Sequence[str]) -> None:
        queues = getattr(settings, SETTING)
        if not isinstance(queues, Mapping) or not queues:
            raise ProdserverError(
                f"Process '{self.name}': {SETTING} must be a dict of queue name to its "
                f"connection, got {queues!r}.\n"
                f'Example: {SETTING} = {{"default": {{"URL": "redis://localhost:6379/0"}}}}'
            )
        defined = ", ".join(map(repr, sorted(queues)))
        if not names and DEFAULT_QUEUE not in queues:
            raise OptionError(
                f"Process '{self.name}': rqworker without queue names works on the "
                f"'{DEFAULT_QUEUE}' queue, which {SETTING} does not define ({SETTING} "
                f"defines {defined}).\n"
                f'Name the queues to work on: "ARGS": {{"{QUEUES_KEY}": ["{next(iter(queues))}"]}}'
            )
        for name in names:
            if name not in queues:
                hint = did_you_mean(name, [str(queue) for queue in queues], quote="'")
                raise OptionError(
                    f"Process '{self.name}': queue '{name}' is not in {SETTING}{hint}. "
                    f"{SETTING} defines {defined}."
                )
        self.check_one_connection(names, queues)

    def check_one_connection(self, names: Sequence[str], queues: Mapping[str, Any]) -> None:
        from django_rq.connection_utils import filter_connection_params

        first = names[0] if names else DEFAULT_QUEUE
        for name in names[1:]:
            if filter_connection_params(queues[name]) != filter_connection_params(queues[first]):
                raise OptionError(
                    f"Process '{self.name}': queues '{first}' and '{name}' use different "
                    f"Redis connections in {SETTING}; one rqworker works on queues of one "
                    f"connection. Start a process for each connection."
                )


def is_queues_key(key: object) -> bool:
    return isinstance(key, str) and normalize(key) == QUEUES_KEY


def configured_queues(args: Mapping[str, Any], process: str) -> list[str]:
    """The queue names under ARGS' `queues` key (None: none, rqworker's "default")."""
    keys = [key for key in args if is_queues_key(key)]
    if args[keys[0]] is None:
        return []
    value = args[keys[0]]
    names = list(value) if isinstance(value, (list, tuple)) else [value]
    if not names or not all(isinstance(name, str) and name.strip() for name in names):
        raise OptionError(
            f"Process '{process}': `{keys[0]}` takes a queue name or a list of queue names "
            f'of {SETTING}, got {value!r}. Example: "{QUEUES_KEY}": ["high", "default"]'
        )
    return names
