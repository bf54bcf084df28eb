"""Celery beat on django-celery-beat's scheduler: its app and its tables, before the start.

cookiecutter-django, among many, sets `CELERY_BEAT_SCHEDULER` to
`django_celery_beat.schedulers:DatabaseScheduler`, which reads the schedule from the
tables of the `django_celery_beat` app. Without the app in INSTALLED_APPS, or without its
migrations applied, beat starts, then dies on its first query with a traceback.
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING

from django.apps import apps

from django_prodserver.backends.database_tables import check_migrated, databases_of
from django_prodserver.errors import MissingPackageError, ProdserverError

if TYPE_CHECKING:
    from celery import Celery

PACKAGE = "django_celery_beat"
DISTRIBUTION = "django-celery-beat"


def configured_scheduler(app: Celery, scheduler_option: str | None) -> str:
    """The scheduler beat will use: `--scheduler`, then $CELERY_BEAT_SCHEDULER, then the app's."""
    scheduler = (
        scheduler_option or os.environ.get("CELERY_BEAT_SCHEDULER") or app.conf.beat_scheduler
    )
    if isinstance(scheduler, str):
        return scheduler
    return f"{scheduler.__module__}:{scheduler.__qualname__}"


def keeps_its_schedule_in_the_database(scheduler: str) -> bool:
    return scheduler.replace(":", ".").split(".")[0] == PACKAGE


def check_installed(process: str, scheduler: str) -> None:
    """The scheduler's package and app are there (a configuration error, `check` reports it)."""
    if not keeps_its_schedule_in_the_database(scheduler):
        return
    if importlib.util.find_spec(PACKAGE) is None:
        raise MissingPackageError(
            f"Process '{process}': celery beat's scheduler {scheduler} comes from "
            f"{DISTRIBUTION}, which is not installed.\nInstall it with: pip install {DISTRIBUTION}"
        )
    if not apps.is_installed(PACKAGE):
        raise ProdserverError(
            f"Process '{process}': celery beat's scheduler {scheduler} reads the schedule "
            f"from the tables of the '{PACKAGE}' app, which is not in INSTALLED_APPS.\n"
            f'Add to your settings: INSTALLED_APPS += ["{PACKAGE}"], then run: '
            f"python manage.py migrate"
        )


def check_tables(process: str, scheduler: str) -> None:
    """The scheduler's tables exist and its database answers (right before the start)."""
    if keeps_its_schedule_in_the_database(scheduler):
        holder = f"celery beat's scheduler {scheduler} keeps its schedule"
        check_migrated(process, holder, PACKAGE, databases_of(PACKAGE))
