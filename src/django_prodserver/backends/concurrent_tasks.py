"""django-tasks-concurrent: `manage.py concurrent_worker`, run in this process.

It runs the tasks that django-tasks-db's database backend stores, several at once on one
event loop (`--concurrency`, 3 by default), and schedules its `@periodic` tasks. On SIGTERM
or SIGINT it takes no new task and exits once those it is running have finished.
"""

from __future__ import annotations

from typing import Any

from django_prodserver.backends.base import Plan
from django_prodserver.backends.management_command import ManagementCommandBackend
from django_prodserver.backends.task_framework import TaskBackendSettings, TaskFrameworkWorker
from django_prodserver.errors import OptionError
from django_prodserver.packages import require
from django_prodserver.preflight.database_tables import check_migrated, databases_of


class ConcurrentTasksWorker(TaskFrameworkWorker, ManagementCommandBackend):
    """`python manage.py concurrent_worker [options]`."""

    server = "concurrent_worker"
    worker_name = "concurrent_worker"
    alias_option = "backend"
    command = "concurrent_worker"
    app_name = "django_tasks_concurrent"
    module = "django_tasks_concurrent"
    extra = "django-tasks-concurrent"
    package = "django-tasks-concurrent"
    needs_tables = True
    not_options = {  # noqa: RUF012 - read only
        "queues": "it runs one queue, `queue_name`; run a process for each queue",
        "threads": "its name for the tasks run at once is `concurrency`",
        "workers": "its name for the tasks run at once is `concurrency`",
    }

    @classmethod
    def task_arguments(cls, tasks: TaskBackendSettings) -> dict[str, Any]:
        arguments = super().task_arguments(tasks)
        if tasks.queues_other_than_the_default():
            arguments["queue_name"] = ",".join(tasks.queues)
        return arguments

    def require_packages(self) -> None:
        require("django_tasks_db", self.extra, self.name, what="django-tasks-db")
        super().require_packages()

    def required_apps(self) -> tuple[str, ...]:
        return ("django_tasks_db", self.app_name)

    def check_plan(self, plan: Plan) -> None:
        queue = plan.value("queue_name") or ""
        if "," in queue or queue == "*":
            raise OptionError(
                f"Process '{self.name}': concurrent_worker runs the tasks of one queue, and "
                f"`queue_name` is {queue!r}. Run a process for each queue, each with its "
                f'"queue_name" (for the TASKS alias\'s QUEUES, one process per queue).'
            )

    def run(self, plan: Plan) -> int | None:
        check_migrated(
            self.name,
            "concurrent_worker takes its tasks",
            "django_tasks_db",
            databases_of("django_tasks_db"),
        )
        return super().run(plan)
