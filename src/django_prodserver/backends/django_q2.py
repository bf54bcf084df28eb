"""django-q2: its cluster (`manage.py qcluster`), configured by the Q_CLUSTER setting.

qcluster's command line has few options (`--name`, `--run-once` and Django's own); the
number of workers, the broker, the timeouts are keys of Q_CLUSTER. The cluster's main
process (this one) forks a sentinel, which forks the workers, a pusher and a monitor; on
SIGTERM or SIGINT to the main process the workers finish the tasks they hold, then all exit.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Mapping, Sequence

from django.conf import settings

from django_prodserver.backends.base import Plan
from django_prodserver.backends.management_command import ManagementCommandBackend
from django_prodserver.errors import ProdserverError

EXAMPLE_SETTING = (
    'Q_CLUSTER = {"name": "myproject", "orm": "default", "workers": 2, "timeout": 60, "retry": 120}'
)
# Keys of Q_CLUSTER that users look for on the command line.
CLUSTER_KEYS = (
    "workers",
    "timeout",
    "retry",
    "recycle",
    "queue_limit",
    "bulk",
    "poll",
    "orm",
    "redis",
    "broker_class",
    "max_attempts",
    "ack_failures",
    "save_limit",
    "cpu_affinity",
    "max_rss",
    "sync",
    "catch_up",
    "scheduler",
    "log_level",
    "label",
    "concurrency",
)


# `qcluster --name` sets Q_CLUSTER_NAME after django-q2 has read its settings (at Django's
# setup), so on Linux, where the cluster's processes are forked, it changes nothing.
NAME_HINT = (
    "on Linux `qcluster --name` changes nothing, because django-q2 has read its settings "
    "before the option is seen (its own help says so). Start the process with the "
    "environment variable Q_CLUSTER_NAME set instead, naming a cluster of "
    'Q_CLUSTER["ALT_CLUSTERS"]'
)


def _setting_hint(key: str) -> str:
    if key == "concurrency":
        return 'django-q2 sets its number of worker processes in Q_CLUSTER["workers"]'
    return f'it is a key of the Q_CLUSTER setting: set Q_CLUSTER["{key}"] instead'


class DjangoQ2Worker(ManagementCommandBackend):
    """`qcluster`: django-q2's cluster of worker processes, with its pusher and monitor."""

    server = "qcluster"
    command = "qcluster"
    app_name = "django_q"
    module = "django_q"
    extra = "django-q2"
    package = "django-q2"
    needs_tables = True  # the results, and with the ORM broker the queue
    not_options = {  # noqa: RUF012 - read only
        **{key.replace("_", "-"): _setting_hint(key) for key in CLUSTER_KEYS},
        "name": NAME_HINT,
        "n": NAME_HINT,
        "cluster-name": NAME_HINT,
    }

    def validate(self, arguments: Sequence[str]) -> None:
        self.check_cluster_setting()
        super().validate(arguments)

    def probe(self, plan: Plan) -> str | None:
        from django_prodserver.liveness.django_q2_stats import check_cluster

        return check_cluster(self.name)

    def run(self, plan: Plan) -> int | None:
        try:
            return super().run(plan)
        except AttributeError as error:
            if not stopped_while_starting(error):
                raise
            # django-q2 before 1.11 (the last for Django 4.2): a SIGTERM before the cluster
            # reports itself started stops it completely, then its start loop fails on the
            # event the stop cleared. The stop was asked for and is done: exit as a stop.
            return None

    def databases(self) -> set[str]:
        alias = settings.Q_CLUSTER.get("orm")
        return super().databases() | ({alias} if alias else set())

    def check_cluster_setting(self) -> None:
        cluster = getattr(settings, "Q_CLUSTER", None)
        if not isinstance(cluster, Mapping) or not cluster:
            found = "is not set" if cluster is None else f"is {cluster!r}, not a dict"
            raise ProdserverError(
                f"Process '{self.name}': qcluster reads its configuration from the Q_CLUSTER "
                f"setting, which {found} (django-q2 would then look for Redis on "
                f"localhost:6379).\n"
                f"Set it; to use the project's database as the queue: {EXAMPLE_SETTING}"
            )
        alias = cluster.get("orm")
        if alias is not None and alias not in settings.DATABASES:
            raise ProdserverError(
                f"Process '{self.name}': Q_CLUSTER['orm'] names the database '{alias}', "
                f"which is not in DATABASES ({', '.join(map(repr, settings.DATABASES))})."
            )


def stopped_while_starting(error: AttributeError) -> bool:
    """Whether `error` is django-q2's start loop meeting the event that a stop cleared."""
    frames = traceback.extract_tb(error.__traceback__)
    last = frames[-1] if frames else None
    return (
        last is not None
        and last.name == "start"
        and last.filename.endswith(os.path.join("django_q", "cluster.py"))
        and "is_set" in str(error)
    )
