"""The module Huey's run_huey imports from every installed app: it brings in the Huey tasks.

(The other frameworks are told their module names: Celery `celery_tasks`, Dramatiq
`dramatiq_tasks`; Huey looks for `tasks` only.)
"""

from jobs.huey_tasks import record_line, record_line_slowly

__all__ = ["record_line", "record_line_slowly"]
