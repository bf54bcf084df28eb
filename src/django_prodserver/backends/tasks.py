"""Django's task framework: the worker of whichever task backend a `TASKS` alias names.

`{"BACKEND": "django_prodserver.backends.tasks.TasksWorker"}` runs the worker of
`TASKS["default"]`; `"ARGS": {"backend": "emails"}` that of the alias `emails`. The alias's
BACKEND picks the worker (`task_workers.py` has the table: db_worker for django-tasks-db,
rqworker for django-tasks-rq, ...), its settings give the worker's options (the alias, its
queues, RQ's job class, Celery's app), and the other ARGS are the worker's own options,
validated by its own parser. Where a task backend has several workers (db_worker and
concurrent_worker for the database), `"worker"` names one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from django_prodserver.backends.base import Backend, Plan
from django_prodserver.backends.task_framework import DEFAULT_ALIAS
from django_prodserver.errors import OptionError, ProdserverError
from django_prodserver.options import normalize

# TasksWorker's own ARGS: the rest are the worker's.
ALIAS_KEY = "backend"
WORKER_KEY = "worker"


class TasksWorker(Backend):
    """The worker of the task backend of a TASKS alias, whichever it is."""

    kind = "worker"
    server = "the task framework's worker"

    def resolved(self) -> Backend:
        try:
            return self.worker()
        except ProdserverError:
            return self  # plan() raises it: only a start, `check` or `--list` need the worker

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        return self.worker().plan(overrides, env)

    def worker(self) -> Backend:
        """The worker backend of the alias, configured with the alias's settings and ARGS."""
        from django_prodserver.task_workers import alias_settings, chosen_worker

        if not self.task_framework_present():
            raise ProdserverError(
                f"Process '{self.name}': TasksWorker runs the worker of a task backend of "
                f"Django's task framework, which this project lacks: it is built into Django 6; "
                f'on Django 5.2, install the django-tasks backport and add "django_tasks" to '
                f"INSTALLED_APPS."
            )
        own, theirs = self.split_arguments()
        tasks = alias_settings(self.name, own.get(ALIAS_KEY) or DEFAULT_ALIAS)
        worker_class, entry = chosen_worker(self.name, tasks, own.get(WORKER_KEY))
        spec = replace(
            self.spec,
            args={**worker_class.task_arguments(tasks), **theirs},
            app=self.spec.app or worker_class.task_application(tasks),
        )
        worker = worker_class(spec)
        origin = "" if entry.origin == "built in" else f", {entry.origin}"
        worker.origin = f"{tasks.label} is {tasks.path}: {worker_class.worker_name}{origin}"
        return worker

    def split_arguments(self) -> tuple[dict[str, str], dict[str, Any]]:
        """ARGS: the alias and the worker's name, and the worker's own options."""
        args = self.spec.args
        if not isinstance(args, Mapping):
            raise OptionError(
                f"Process '{self.name}': TasksWorker takes ARGS as a dict (the worker's options "
                f'by name, and "{ALIAS_KEY}", the TASKS alias), got a list: {list(args)!r}.'
            )
        own: dict[str, str] = {}
        theirs: dict[str, Any] = {}
        for key, value in args.items():
            name = normalize(str(key))
            if name in (ALIAS_KEY, WORKER_KEY):
                if not isinstance(value, str) or not value:
                    raise OptionError(
                        f"Process '{self.name}': `{key}` names a "
                        f"{'TASKS alias' if name == ALIAS_KEY else 'worker'}, got {value!r}."
                    )
                own[name] = value
            else:
                theirs[key] = value
        return own, theirs

    @staticmethod
    def task_framework_present() -> bool:
        from django_prodserver.task_workers import task_framework_available

        return task_framework_available()
