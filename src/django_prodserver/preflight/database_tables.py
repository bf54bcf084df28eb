"""Before a worker that keeps its tasks in the database starts: are its app's tables there?

Without its migrations applied, db_worker and qcluster fail on their first query with a
traceback about a missing table, and, run together or under a process manager, start over
and fail again. `runserver` checks migrations at each start for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import AppConfig, apps
from django.db import DatabaseError, connections, router
from django.db.migrations.executor import MigrationExecutor

from django_prodserver.errors import ProdserverError

# How many unapplied migrations a message names before it says "and N more".
SHOWN = 3


def app_config(app_name: str) -> AppConfig:
    """The installed app whose module is `app_name` (its label may differ)."""
    return next(config for config in apps.get_app_configs() if config.name == app_name)


def databases_of(app_name: str) -> set[str]:
    """The databases the app's models are written to (with the project's routers)."""
    return {router.db_for_write(model) for model in app_config(app_name).get_models()}


def check_migrated(process: str, holder: str, app_name: str, aliases: Iterable[str]) -> None:
    """A ProdserverError naming the fix when the app's migrations are not all applied.

    `holder` says what the database holds for the process: "db_worker keeps its tasks".
    """
    label = app_config(app_name).label
    for alias in sorted(aliases):
        try:
            missing = unapplied_migrations(label, alias)
        except DatabaseError as error:
            raise ProdserverError(
                f"Process '{process}': {holder} in the database '{alias}', "
                f"which does not answer: {error}".rstrip()
            ) from error
        if missing:
            more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
            database = "" if alias == "default" else f" --database={alias}"
            raise ProdserverError(
                f"Process '{process}': {holder} in the database '{alias}', "
                f"which lacks the tables of {app_name}: migrations "
                f"{', '.join(missing[:SHOWN])}{more} are not applied.\n"
                f"Apply them first: python manage.py migrate{database}"
            )


def unapplied_migrations(label: str, alias: str) -> list[str]:
    """`app.migration` for each migration the app's tables still need, in order."""
    executor = MigrationExecutor(connections[alias])
    targets = [node for node in executor.loader.graph.leaf_nodes() if node[0] == label]
    return [
        f"{migration.app_label}.{migration.name}"
        for migration, backwards in executor.migration_plan(targets)
        if not backwards
    ]
