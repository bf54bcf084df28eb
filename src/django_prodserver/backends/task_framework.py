"""The shared shape of a worker of Django's task framework (`django.tasks`, or its backport).

A task backend named in `TASKS` keeps the tasks that `.enqueue()` hands it; a worker of its
own runs them. A worker backend that can run the tasks of a `TASKS` alias says what the
alias's settings mean for its options (`task_arguments()`); `backends.tasks.TasksWorker`
picks it from the alias's BACKEND (`task_workers.py` holds which worker runs which task
backend, and a package can add its own under the `django_prodserver.task_workers` entry
point group).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django_prodserver.backends.base import Backend
from django_prodserver.options import normalize
from django_prodserver.processes import ProcessSpec

DEFAULT_ALIAS = "default"
DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class TaskBackendSettings:
    """One entry of `TASKS`, as a worker needs it."""

    alias: str
    path: str
    # The queue names its tasks may use; empty: any name (`"QUEUES": []`).
    queues: tuple[str, ...] = (DEFAULT_QUEUE,)
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"TASKS['{self.alias}']"

    def queues_other_than_the_default(self) -> bool:
        return self.queues != (DEFAULT_QUEUE,)


class TaskFrameworkWorker(Backend):
    """A worker backend that runs the tasks of a `TASKS` alias (put it first among the bases).

    `worker_name` is how `TasksWorker`'s `worker` option names it beside the other workers of
    the same task backend (`db_worker`, `concurrent_worker`); `alias_option` is the worker's
    own option that names the alias, None when the worker runs whichever alias uses its task
    backend (one RQ, one HUEY, one Celery app).
    """

    worker_name: ClassVar[str]
    alias_option: ClassVar[str | None] = None

    @classmethod
    def task_arguments(cls, tasks: TaskBackendSettings) -> dict[str, Any]:
        """ARGS that run the tasks of `tasks`; what the process configures goes on top."""
        if cls.alias_option is None or tasks.alias == DEFAULT_ALIAS:
            return {}
        return {cls.alias_option: tasks.alias}

    @classmethod
    def task_application(cls, tasks: TaskBackendSettings) -> str | None:
        """APP for the process, when the alias's settings name one (Celery's app)."""
        return None

    @classmethod
    def runs_tasks_of(cls, spec: ProcessSpec, tasks: TaskBackendSettings) -> bool:
        """Whether the process `spec`, configured with this worker, runs the tasks of `tasks`."""
        if cls.alias_option is None:
            return True
        return configured_value(spec.args, cls.alias_option, DEFAULT_ALIAS) == tasks.alias


def configured_value(
    args: Mapping[str, Any] | tuple[str, ...], option: str, default: str
) -> str | None:
    """The value ARGS give `option` (a dict key, or `--option=value` / `--option value`)."""
    wanted = normalize(option)
    if isinstance(args, Mapping):
        found = [value for key, value in args.items() if normalize(str(key)) == wanted]
        return default if not found or found[-1] is None else str(found[-1])
    value = default
    words = list(args)
    for index, word in enumerate(words):
        name, equals, given = word.partition("=")
        if not name.startswith("--") or normalize(name) != wanted:
            continue
        if equals:
            value = given
        elif index + 1 < len(words):
            value = words[index + 1]
    return value
