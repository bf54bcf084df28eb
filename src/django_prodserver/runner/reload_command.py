"""`prodserver --reload`: find the runners of this project and have them reload (SIGHUP)."""

from __future__ import annotations

from django_prodserver.errors import ProdserverError
from django_prodserver.project import project_folder
from django_prodserver.runner.registry import record_folder, reload_runners, running_runners
from django_prodserver.runner.together import settings_module


class NoRunnerError(ProdserverError):
    pass


def reload_running() -> str:
    """SIGHUP to each live runner of this project; what was done, or an error if none runs."""
    project, settings = str(project_folder()), settings_module()
    runners = running_runners(record_folder(project, settings))
    if not runners:
        raise NoRunnerError(
            f"No prodserver runner of this project ({project}, settings {settings}) is "
            f"running as this user, so there is nothing to reload. Start one with "
            f"`manage.py prodserver NAME NAME...` (or --all), with the same settings."
        )
    reload_runners(runners)
    return "\n".join(
        f"Asked the runner (pid {runner.pid}) of {', '.join(runner.names)} to reload every "
        f"process in turn; its output says how it goes."
        for runner in runners
    )
