"""Celery beat's scheduler, checked before the start: it imports, and its tables are there.

Celery imports the scheduler class only once beat runs, and a wrong name ends beat with a
traceback. cookiecutter-django, among many, sets `CELERY_BEAT_SCHEDULER` to
`django_celery_beat.schedulers:DatabaseScheduler`, which reads the schedule from the
tables of the `django_celery_beat` app. Without the app in INSTALLED_APPS, or without its
migrations applied, beat starts, then dies on its first query with a traceback.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from django.apps import apps

from django_prodserver.errors import MissingPackageError, OptionError, ProdserverError
from django_prodserver.options import OptionTable, OptionValue
from django_prodserver.preflight.database_tables import check_migrated, databases_of
from django_prodserver.project import project_folder

if TYPE_CHECKING:
    from celery import Celery

# What beat calls its schedule file when nothing names one (relative to the working directory).
DEFAULT_SCHEDULE = "celerybeat-schedule"
DEFAULT_SCHEDULER = "celery.beat:PersistentScheduler"
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


def top_level_module(scheduler: str) -> str:
    return scheduler.replace(":", ".").split(".")[0]


def keeps_its_schedule_in_the_database(scheduler: str) -> bool:
    return top_level_module(scheduler) == PACKAGE


def check_scheduler(process: str, scheduler: str) -> None:
    """The scheduler imports, with its app when it is django-celery-beat's (`check` says)."""
    if keeps_its_schedule_in_the_database(scheduler):
        check_the_app(process, scheduler)
    check_imports(process, scheduler)


def check_the_app(process: str, scheduler: str) -> None:
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


def check_imports(process: str, scheduler: str) -> None:
    from celery.utils.imports import symbol_by_name

    try:
        symbol_by_name(scheduler)
    except ModuleNotFoundError as error:
        if error.name == top_level_module(scheduler):
            raise MissingPackageError(
                f"Process '{process}': celery beat's scheduler {scheduler} needs the module "
                f"'{error.name}', which is not installed. Install the package that provides "
                f"it, or name another scheduler."
            ) from None
        raise scheduler_error(process, scheduler, error) from None
    except (ImportError, AttributeError, ValueError) as error:
        raise scheduler_error(process, scheduler, error) from None


def scheduler_error(process: str, scheduler: str, error: Exception) -> OptionError:
    return OptionError(
        f"Process '{process}': celery beat's scheduler {scheduler} cannot be imported: "
        f"{type(error).__name__}: {error}. It is `module:Class` or `module.Class` "
        f"(Celery's default is celery.beat:PersistentScheduler)."
    )


def check_tables(process: str, scheduler: str) -> None:
    """The scheduler's tables exist and its database answers (right before the start)."""
    if keeps_its_schedule_in_the_database(scheduler):
        holder = f"celery beat's scheduler {scheduler} keeps its schedule"
        check_migrated(process, holder, PACKAGE, databases_of(PACKAGE))


def schedule_default(
    app: Celery, table: OptionTable, options: Sequence[OptionValue], key: str, process: str
) -> list[OptionValue]:
    """`--schedule=FOLDER/celerybeat-schedule` when nothing names the file.

    Celery would write it to whatever the working directory happens to be (`/` under a
    bare systemd unit); the line says where it goes instead (see `default_schedule`).
    """
    configured = {item.option.key for item in options}
    if {key, "scheduler"} & configured or os.environ.get("CELERY_BEAT_SCHEDULE"):
        return []
    if app.conf.beat_schedule_filename != DEFAULT_SCHEDULE:
        return []  # the app names its file: Celery's own rules apply
    if app.conf.beat_scheduler not in (DEFAULT_SCHEDULER, "celery.beat.PersistentScheduler"):
        return []  # another scheduler (django-celery-beat's) keeps no file
    return table.from_mapping({key: default_schedule()}, process)


def default_schedule() -> str:
    """The schedule file beat keeps when nothing names one: in `$STATE_DIRECTORY`, where
    the process's state goes (systemd's `StateDirectory=` sets it, so do the images the
    exports describe), else beside manage.py."""
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    folder = Path(state) if state else project_folder()
    return str(folder / DEFAULT_SCHEDULE)
