"""django-tasks-redis: its worker `manage.py run_redis_tasks`, run in this process.

django-tasks-redis is a backend of Django 6's task framework that keeps the tasks in Redis
streams. Its worker exits once the queue is empty unless told `--continuous`, which a
process that runs for good needs: the plan always passes it. On SIGTERM or SIGINT it finishes
the task it is running, saves its result and exits (`--shutdown-timeout` bounds that wait).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django_prodserver.backends.base import Plan
from django_prodserver.backends.management_command import ManagementCommandBackend
from django_prodserver.backends.task_framework import TaskFrameworkWorker
from django_prodserver.errors import OptionError
from django_prodserver.options import OptionValue


class RedisTasksWorker(TaskFrameworkWorker, ManagementCommandBackend):
    """`python manage.py run_redis_tasks --continuous [options]`."""

    server = "run_redis_tasks"
    worker_name = "run_redis_tasks"
    alias_option = "backend"
    command = "run_redis_tasks"
    app_name = "django_tasks_redis"
    module = "django_tasks_redis"
    extra = "django-tasks-redis"
    package = "django-tasks-redis"

    def default_options(self, configured: Sequence[OptionValue]) -> Mapping[str, object]:
        return {"continuous": True}

    def check_plan(self, plan: Plan) -> None:
        if plan.switched_on("no_graceful_shutdown"):
            raise OptionError(
                f"Process '{self.name}': `no_graceful_shutdown` makes run_redis_tasks end at "
                f"once on the stop signal, in the middle of its task (which runs again only "
                f"after REDIS_CLAIM_TIMEOUT). Remove it; `shutdown_timeout` bounds the wait "
                f"for the task instead."
            )

    def graceful_timeout(self, plan: Plan) -> float | None:
        timeout = float(plan.value("shutdown_timeout") or 0)
        return timeout if timeout > 0 else None
