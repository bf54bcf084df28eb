"""The database worker of Django's task framework: django-tasks-db's `manage.py db_worker`.

django-tasks 0.12 moved its database backend and `db_worker` into the django-tasks-db
package. That package runs on Django 6's built-in `django.tasks`, and on Django 5.2 with
the django-tasks backport (its `django_tasks` app installed too). Before 0.12, the backport
held them itself, in its app `django_tasks.backends.database`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import django
from django.conf import settings
from django.utils.module_loading import import_string

from django_prodserver.backends.base import Plan
from django_prodserver.backends.management_command import ManagementCommandBackend
from django_prodserver.backends.task_framework import TaskBackendSettings, TaskFrameworkWorker
from django_prodserver.errors import OptionError, ProdserverError
from django_prodserver.options import OptionValue
from django_prodserver.packages import require

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
# Where django-tasks kept its database backend before 0.12.
OLD_DATABASE_BACKEND = "django_tasks.backends.database"
BACKPORT_APP = "django_tasks"
ONE_TASK_AT_A_TIME = (
    "db_worker runs one task at a time; for more at once, run several worker processes "
    "(each its own `prodserver NAME`, or replicas of it)"
)


def builtin_tasks() -> bool:
    """Django 6 and newer have `django.tasks`; before, the django-tasks backport provides it."""
    return importlib.util.find_spec("django.tasks") is not None


class DatabaseTasksWorker(TaskFrameworkWorker, ManagementCommandBackend):
    """`db_worker`: runs the tasks that a django-tasks-db backend stores in the database."""

    server = "db_worker"
    worker_name = "db_worker"
    alias_option = "backend"
    command = "db_worker"
    app_name = "django_tasks_db"
    module = "django_tasks_db"
    extra = "django-tasks"
    needs_tables = True
    # The task backend whose tasks it runs (a subclass in TASKS is one too).
    database_backend: ClassVar[str] = "django_tasks_db.backend.DatabaseBackend"
    documented_backend: ClassVar[str] = DATABASE_BACKEND
    not_options = {  # noqa: RUF012 - read only
        "processes": ONE_TASK_AT_A_TIME,
        "threads": ONE_TASK_AT_A_TIME,
        "concurrency": ONE_TASK_AT_A_TIME,
        "workers": ONE_TASK_AT_A_TIME,
        "queue": "its name for the queues to run is `queue_name` (several: comma-separated)",
        "queues": "its name for the queues to run is `queue_name` (several: comma-separated)",
    }

    @classmethod
    def task_arguments(cls, tasks: TaskBackendSettings) -> dict[str, Any]:
        """The alias, and its queues: every one for `"QUEUES": []`."""
        arguments = super().task_arguments(tasks)
        if tasks.queues_other_than_the_default():
            arguments["queue_name"] = ",".join(tasks.queues) if tasks.queues else "*"
        return arguments

    def require_packages(self) -> None:
        if django.VERSION < (5, 2):
            raise ProdserverError(
                f"Process '{self.name}': django-tasks-db needs Django 5.2 or newer; this "
                f"project runs Django {django.get_version()}."
            )
        if not builtin_tasks():
            require(
                BACKPORT_APP,
                self.extra,
                self.name,
                what="django-tasks (the backport of django.tasks for Django before 6.0)",
            )
        require(self.module, self.extra, self.name, what="django-tasks-db")

    def required_apps(self) -> tuple[str, ...]:
        if builtin_tasks():
            return (self.app_name,)
        return (BACKPORT_APP, self.app_name)

    def default_options(self, configured: Sequence[OptionValue]) -> Mapping[str, object]:
        # db_worker reloads on code changes when DEBUG is on: it then runs the tasks in a
        # child process that Django's reloader kills (SIGKILL) when the worker gets SIGTERM.
        if settings.DEBUG and "reload" not in {item.option.key for item in configured}:
            return {"reload": False}
        return {}

    def check_plan(self, plan: Plan) -> None:
        if plan.switched_on("reload"):
            raise OptionError(
                f"Process '{self.name}': db_worker's `reload` is for development: it runs the "
                f"tasks in a child process, which a stop signal kills in the middle of its task "
                f"(the task then stays 'RUNNING' and never runs again). Remove it from this "
                f"process; run `python manage.py db_worker --reload` while developing."
            )
        self.check_database_backend(plan.value("backend") or "default")

    def check_database_backend(self, alias: str) -> None:
        database_backend = import_string(self.database_backend)
        backends = configured_task_backends()
        example = f'TASKS = {{"{alias}": {{"BACKEND": "{self.documented_backend}"}}}}'
        if alias not in backends:
            raise ProdserverError(
                f"Process '{self.name}': db_worker runs the tasks of the TASKS backend "
                f"'{alias}', which is not configured (TASKS has {', '.join(map(repr, backends))})."
                f"\nAdd it: {example}, or name another with the `backend` option."
            )
        path = str(backends[alias].get("BACKEND", ""))
        try:
            backend_class = import_string(path)
        except ImportError as error:
            moved = (
                f" django-tasks 0.12 moved its database backend to django-tasks-db: "
                f'use "{DATABASE_BACKEND}", and "django_tasks_db" in INSTALLED_APPS.'
                if path.startswith(OLD_DATABASE_BACKEND)
                else ""
            )
            raise ProdserverError(
                f"Process '{self.name}': TASKS['{alias}'] BACKEND '{path}' cannot be "
                f"imported ({error}).{moved}"
            ) from error
        if not (isinstance(backend_class, type) and issubclass(backend_class, database_backend)):
            default = "" if settings.is_overridden("TASKS") else " (the default: TASKS is not set)"
            raise ProdserverError(
                f"Process '{self.name}': db_worker runs the tasks a database backend stores, "
                f"but TASKS['{alias}'] is '{path}'{default}.\n"
                f"Set: {example}"
            )


class BackportDatabaseTasksWorker(DatabaseTasksWorker):
    """`db_worker` of django-tasks before 0.12, whose app held the database backend itself."""

    app_name = "django_tasks.backends.database"
    module = "django_tasks.backends.database"
    database_backend = "django_tasks.backends.database.DatabaseBackend"
    documented_backend = "django_tasks.backends.database.DatabaseBackend"

    def require_packages(self) -> None:
        require(
            self.module,
            self.extra,
            self.name,
            what="django-tasks before 0.12 (from 0.12 on, its database backend is "
            "django-tasks-db's django_tasks_db.DatabaseBackend)",
        )

    def required_apps(self) -> tuple[str, ...]:
        return (BACKPORT_APP, self.app_name)


def configured_task_backends() -> dict[str, Any]:
    """TASKS as the task framework reads it (its default when the setting is not set)."""
    framework = importlib.import_module("django.tasks" if builtin_tasks() else "django_tasks")
    configured: dict[str, Any] = framework.task_backends.settings
    return configured
