"""Which worker runs the tasks of a `TASKS` backend: ours, or one a package registers.

Django's task framework leaves the worker to each task backend. The table below names, for
each task backend we know, the backends of this package that run its worker (the first is
the one `TasksWorker` starts unless its `worker` option names another). A package adds its
own under the entry point group `django_prodserver.task_workers`: the entry point's name is
the task backend's dotted path, its value the worker backend class, e.g. in pyproject.toml

    [project.entry-points."django_prodserver.task_workers"]
    "mypackage.MyTaskBackend" = "mypackage.prodserver:MyTaskWorker"
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from django_prodserver.backend_names import dotted_path, registered_by
from django_prodserver.backends.base import Backend
from django_prodserver.backends.task_framework import (
    DEFAULT_ALIAS,
    DEFAULT_QUEUE,
    TaskBackendSettings,
    TaskFrameworkWorker,
)
from django_prodserver.errors import ProdserverError
from django_prodserver.loading import import_backend_class
from django_prodserver.processes import ProcessSpec
from django_prodserver.suggestions import did_you_mean

ENTRY_POINT_GROUP = "django_prodserver.task_workers"
TASKS_WORKER = "django_prodserver.backends.tasks.TasksWorker"
_BACKENDS = "django_prodserver.backends."
DATABASE = _BACKENDS + "database_tasks.DatabaseTasksWorker"
CONCURRENT = _BACKENDS + "concurrent_tasks.ConcurrentTasksWorker"
OLD_DATABASE = _BACKENDS + "database_tasks.BackportDatabaseTasksWorker"
RQ = _BACKENDS + "rq.RQWorker"
REDIS = _BACKENDS + "redis_tasks.RedisTasksWorker"
HUEY = _BACKENDS + "huey.HueyConsumer"
CELERY = _BACKENDS + "celery.CeleryWorker"

# Task backend (each path it is known by) -> the worker backends that run its tasks.
BUILT_IN: Mapping[str, tuple[str, ...]] = {
    "django_tasks_db.DatabaseBackend": (DATABASE, CONCURRENT),
    "django_tasks_db.backend.DatabaseBackend": (DATABASE, CONCURRENT),
    # django-tasks before 0.12 held the database and RQ backends.
    "django_tasks.backends.database.DatabaseBackend": (OLD_DATABASE,),
    "django_tasks.backends.database.backend.DatabaseBackend": (OLD_DATABASE,),
    "django_tasks_rq.RQBackend": (RQ,),
    "django_tasks_rq.backend.RQBackend": (RQ,),
    "django_tasks.backends.rq.RQBackend": (RQ,),
    "django_tasks_redis.RedisTaskBackend": (REDIS,),
    "django_tasks_redis.backends.RedisTaskBackend": (REDIS,),
    "huey.contrib.djhuey.tasks_backend.HueyBackend": (HUEY,),
    "django_tasks_celery.CeleryBackend": (CELERY,),
    "django_tasks_celery.backend.CeleryBackend": (CELERY,),
}
# Where django-tasks kept the backends it moved out in 0.12.
MOVED = ("django_tasks.backends.database", "django_tasks.backends.rq")
# Task backends that run each task in the process that enqueues it: no worker to start.
IN_PROCESS: Mapping[str, str] = {
    "django.tasks.backends.immediate.ImmediateBackend": "runs each task at once, in place",
    "django.tasks.backends.dummy.DummyBackend": "stores the tasks and never runs them",
    "django_tasks.backends.immediate.ImmediateBackend": "runs each task at once, in place",
    "django_tasks.backends.dummy.DummyBackend": "stores the tasks and never runs them",
    "django_tasks_local.ThreadPoolBackend": "runs the tasks in threads of that process",
    "django_tasks_local.backend.ThreadPoolBackend": "runs the tasks in threads of that process",
    "django_tasks_local.ProcessPoolBackend": "runs the tasks in child processes of that process",
    "django_tasks_local.backend.ProcessPoolBackend": (
        "runs the tasks in child processes of that process"
    ),
}


@dataclass(frozen=True)
class WorkerEntry:
    """A worker backend registered for a task backend, and where the registration came from."""

    task_backend: str
    worker: str
    origin: str = "built in"


def task_framework_available() -> bool:
    """Django 6's `django.tasks`, or the django-tasks backport before it."""
    return any(importlib.util.find_spec(name) for name in ("django.tasks", "django_tasks"))


def configured_tasks() -> Mapping[str, Any]:
    """`TASKS` as Django reads it: the setting, or the default (the immediate backend)."""
    value = getattr(settings, "TASKS", None)
    if value is not None:
        return value  # type: ignore[no-any-return]
    package = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
    return {DEFAULT_ALIAS: {"BACKEND": f"{package}.backends.immediate.ImmediateBackend"}}


def tasks_configured() -> bool:
    """Whether the project sets TASKS (Django 6 has a default: the immediate backend)."""
    return settings.is_overridden("TASKS") and getattr(settings, "TASKS", None) is not None


def alias_settings(process: str, alias: str) -> TaskBackendSettings:
    """TASKS[alias], checked for the shape a worker needs."""
    tasks = configured_tasks()
    unset = "" if tasks_configured() else " (TASKS is not set: this is Django's default)"
    if not isinstance(tasks, Mapping):
        raise ProdserverError(
            f"Process '{process}': TASKS must be a dict of alias to task backend, got "
            f"{type(tasks).__name__}."
        )
    if alias not in tasks:
        hint = did_you_mean(alias, [str(name) for name in tasks], quote="'")
        raise ProdserverError(
            f"Process '{process}': the tasks of TASKS['{alias}'] cannot run: TASKS has no "
            f"alias '{alias}'{hint} (it has {', '.join(repr(str(n)) for n in tasks)}){unset}.\n"
            f'Name one of them with "ARGS": {{"backend": "..."}}, or add it to TASKS.'
        )
    entry = tasks[alias]
    path = entry.get("BACKEND") if isinstance(entry, Mapping) else None
    if not isinstance(path, str) or not path:
        raise ProdserverError(
            f"Process '{process}': TASKS['{alias}'] must be a dict with a BACKEND, the "
            f'dotted path of a task backend, got {entry!r}. Example: {{"BACKEND": '
            f'"django_tasks_db.DatabaseBackend"}}'
        )
    queues = entry.get("QUEUES", [DEFAULT_QUEUE])
    if isinstance(queues, str) or not all(isinstance(queue, str) for queue in queues):
        raise ProdserverError(
            f"Process '{process}': TASKS['{alias}']['QUEUES'] must be a list of queue names, "
            f"got {queues!r}."
        )
    options = entry.get("OPTIONS", {})
    return TaskBackendSettings(
        alias, path, tuple(queues), options if isinstance(options, Mapping) else {}
    )


def registered_entries() -> Iterator[WorkerEntry]:
    """The built-in table, then what installed packages register."""
    for task_backend, workers in BUILT_IN.items():
        for worker in workers:
            yield WorkerEntry(task_backend, worker)
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        yield WorkerEntry(entry_point.name, dotted_path(entry_point), registered_by(entry_point))


def entries_for(process: str, tasks: TaskBackendSettings) -> list[WorkerEntry]:
    """The registered workers of the alias's task backend: by its path, else by its class.

    A path of the table needs no import (a missing package is the worker's to name, with its
    pip line); any other is imported, to find the backend it subclasses.
    """
    entries = list(registered_entries())
    found = [entry for entry in entries if entry.task_backend == tasks.path]
    if found and tasks.path.startswith(MOVED):
        import_task_backend(process, tasks)  # django-tasks 0.12 and newer: moved, says so
    if found or tasks.path in IN_PROCESS:
        return found
    configured = import_task_backend(process, tasks)
    for known in dict.fromkeys(entry.task_backend for entry in entries):
        known_class = import_quietly(known)
        if isinstance(known_class, type) and issubclass(configured, known_class):
            return [entry for entry in entries if entry.task_backend == known]
    return []


def in_process_reason(process: str, tasks: TaskBackendSettings) -> str | None:
    """How an in-process task backend runs its tasks; None for one that needs a worker."""
    if tasks.path in IN_PROCESS:
        return IN_PROCESS[tasks.path]
    if any(entry.task_backend == tasks.path for entry in registered_entries()):
        return None
    configured = import_task_backend(process, tasks)
    for path, reason in IN_PROCESS.items():
        known = import_quietly(path)
        if isinstance(known, type) and issubclass(configured, known):
            return reason
    return None


def import_task_backend(process: str, tasks: TaskBackendSettings) -> type:
    try:
        found = import_string(tasks.path)
    except ImportError as error:
        moved = (
            " django-tasks 0.12 moved its database backend to the django-tasks-db package: "
            'use "django_tasks_db.DatabaseBackend", and "django_tasks_db" in INSTALLED_APPS.'
            if tasks.path.startswith(MOVED[0])
            else (
                " django-tasks 0.12 moved its RQ backend to the django-tasks-rq package: use "
                '"django_tasks_rq.RQBackend".'
                if tasks.path.startswith(MOVED[1])
                else ""
            )
        )
        raise ProdserverError(
            f"Process '{process}': {tasks.label} BACKEND '{tasks.path}' cannot be imported "
            f"({error}).{moved}"
        ) from None
    if not isinstance(found, type):
        raise ProdserverError(
            f"Process '{process}': {tasks.label} BACKEND '{tasks.path}' is not a class."
        )
    return found


def import_quietly(path: str) -> object:
    """The object at `path`, or None when its package is not installed (or fails to import)."""
    try:
        return import_string(path)
    except Exception:
        return None


def chosen_worker(
    process: str, tasks: TaskBackendSettings, name: str | None
) -> tuple[type[TaskFrameworkWorker], WorkerEntry]:
    """The worker backend class that runs the tasks of `tasks` (the one called `name`)."""
    reason = in_process_reason(process, tasks)
    if reason is not None:
        unset = " (TASKS is not set: Django's default)" if not tasks_configured() else ""
        raise ProdserverError(
            f"Process '{process}': {tasks.label} is '{tasks.path}'{unset}, which {reason}: "
            f"its tasks run in the process that enqueues them, so there is no worker to "
            f"start.\nPoint {tasks.label} at a task backend with a worker (such as "
            f'"django_tasks_db.DatabaseBackend"), or remove this process.'
        )
    entries = entries_for(process, tasks)
    if not entries:
        raise ProdserverError(
            f"Process '{process}': {tasks.label} is '{tasks.path}', a task backend whose "
            f"worker django-prodserver does not know.\nRun its worker with a backend of its "
            f"own in PRODUCTION_PROCESSES (a ManagementCommandBackend subclass naming its "
            f"command: see 'Writing a backend'), or register one for it under the entry "
            f"point group '{ENTRY_POINT_GROUP}'."
        )
    loaded = [(load_worker_class(process, entry), entry) for entry in entries]
    if name is None:
        return loaded[0]
    for worker_class, entry in loaded:
        if worker_class.worker_name == name:
            return worker_class, entry
    names = [worker_class.worker_name for worker_class, _ in loaded]
    raise ProdserverError(
        f"Process '{process}': `worker` is '{name}', which does not run the tasks of "
        f"{tasks.label} ('{tasks.path}'){did_you_mean(name, names, quote=chr(39))}; its "
        f"workers are {', '.join(repr(n) for n in names)}."
    )


def load_worker_class(process: str, entry: WorkerEntry) -> type[TaskFrameworkWorker]:
    worker_class = import_backend_class(process, entry.worker)
    if not issubclass(worker_class, TaskFrameworkWorker):
        raise ProdserverError(
            f"Process '{process}': '{entry.worker}', the worker of '{entry.task_backend}' "
            f"({entry.origin}), is not a worker of the task framework: it must subclass "
            f"django_prodserver.backends.task_framework.TaskFrameworkWorker."
        )
    return worker_class


def workers_needed() -> list[TaskBackendSettings]:
    """The TASKS aliases whose tasks only a worker runs (in-process ones left out)."""
    if not task_framework_available() or not tasks_configured():
        return []
    tasks = configured_tasks()
    if not isinstance(tasks, Mapping):
        return []
    needed = []
    for alias in tasks:
        try:
            entry = alias_settings("", str(alias))
            if in_process_reason("", entry) is None:
                needed.append(entry)
        except ProdserverError:
            continue  # the task framework's own checks report a broken TASKS
    return needed


def runs_tasks_of(backend: Backend, tasks: TaskBackendSettings) -> bool:
    """Whether the process of `backend` runs the tasks of the alias `tasks`."""
    if not isinstance(backend, TaskFrameworkWorker):
        return False
    try:
        entries = entries_for("", tasks)
    except ProdserverError:
        return False
    classes = [import_quietly(entry.worker) for entry in entries]
    return any(
        isinstance(worker_class, type) and isinstance(backend, worker_class)
        for worker_class in classes
    ) and type(backend).runs_tasks_of(backend.spec, tasks)


# The process `manage.py worker` runs in a project that configures no worker.
ZERO_CONFIGURATION_NAME = "tasks"


def zero_configuration_worker(configured_names: Collection[str]) -> ProcessSpec | None:
    """The worker of TASKS["default"], for a project whose PRODUCTION_PROCESSES has none.

    None when the project sets no TASKS (or has no task framework): Django then runs each
    task where it is enqueued.
    """
    if not task_framework_available() or not tasks_configured():
        return None
    name = ZERO_CONFIGURATION_NAME
    while name in configured_names:
        name = f"{name}-worker"
    return ProcessSpec(name, TASKS_WORKER)


def zero_configuration_notice(spec: ProcessSpec) -> str:
    """The first line `manage.py worker` says when it runs the worker of TASKS["default"]."""
    default = configured_tasks().get(DEFAULT_ALIAS)
    path = default.get("BACKEND") if isinstance(default, Mapping) else None
    return (
        f"No worker process in PRODUCTION_PROCESSES: running the worker of "
        f"TASKS['{DEFAULT_ALIAS}'] ({path}) as '{spec.name}', as "
        f'{{"BACKEND": "{TASKS_WORKER}"}} would.'
    )


def aliases_without_a_worker(backends: Sequence[Backend]) -> list[TaskBackendSettings]:
    """The TASKS aliases that need a worker and that none of these processes runs.

    With no worker process at all, `manage.py worker` runs the default alias's worker, so
    only the other aliases are left without one.
    """
    needed = workers_needed()
    if not any(backend.kind == "worker" for backend in backends):
        needed = [tasks for tasks in needed if tasks.alias != DEFAULT_ALIAS]
    return [
        tasks for tasks in needed if not any(runs_tasks_of(backend, tasks) for backend in backends)
    ]
