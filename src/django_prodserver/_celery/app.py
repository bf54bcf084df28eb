"""The project's Celery application, found as `celery -A APP` finds it.

Loading the app imports the project's module (no network), so it runs whenever a plan is
made, `manage.py check` included.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

from django_prodserver.errors import ApplicationError

if TYPE_CHECKING:
    from celery import Celery

EXAMPLE_APP = "myproject.celery.app"


def load_app(process: str, backend: str, path: str | None) -> Celery:
    """The Celery application that APP names, found as `celery -A` finds it."""
    if not path:
        raise ApplicationError(
            f"Process '{process}': {backend} needs APP, the dotted path of your Celery "
            f'application, e.g. "APP": "{EXAMPLE_APP}"'
        )
    from celery import Celery
    from celery.app.utils import find_app

    try:
        found = find_app(path)
    except ModuleNotFoundError as error:
        if error.name and not _is_part_of(error.name, path):
            raise ApplicationError(
                f"Process '{process}': APP '{path}' cannot be imported: importing it needs "
                f"the module '{error.name}', which is not installed.{_where(error)}"
            ) from None
        raise ApplicationError(f"Process '{process}': APP '{path}': {_not_found(path)}") from None
    except AttributeError:
        raise ApplicationError(f"Process '{process}': APP '{path}': {_not_found(path)}") from None
    except Exception as error:
        raise ApplicationError(
            f"Process '{process}': importing APP '{path}' failed with "
            f"{type(error).__name__}: {error}{_where(error)}"
        ) from None
    if not isinstance(found, Celery):
        raise ApplicationError(
            f"Process '{process}': APP '{path}' is {_describe(found)}, not a Celery "
            f'application. Name the `Celery(...)` instance, e.g. "APP": "{EXAMPLE_APP}".'
        )
    return found


def _is_part_of(module: str, path: str) -> bool:
    """`myproject.celery` is part of `myproject.celery.app` (its own missing module)."""
    dotted = path.replace(":", ".")
    return dotted == module or dotted.startswith(module + ".")


def _not_found(path: str) -> str:
    """What APP found on the way: the module it reached, and the Celery apps in it."""
    module_path, separator, attribute = path.rpartition(":")
    if not separator:
        module_path, attribute = path, ""
    while module_path:
        module = _import_quietly(module_path)
        if module is not None:
            break
        module_path, _, last = module_path.rpartition(".")
        attribute = f"{last}.{attribute}".rstrip(".")
    else:
        return (
            f"there is no module '{path.split(':')[0].split('.')[0]}'. APP is the dotted "
            f'path of your Celery application, e.g. "APP": "{EXAMPLE_APP}".'
        )
    apps = _celery_apps(module)
    found = (
        f"It has {', '.join(repr(f'{module_path}.{name}') for name in apps)}."
        if apps
        else "It defines no Celery application."
    )
    if not attribute:
        return (
            f"the module '{module_path}' has no Celery application named `app` or `celery`. {found}"
        )
    return f"the module '{module_path}' has no attribute '{attribute}'. {found}"


def _import_quietly(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except Exception:
        return None


def _celery_apps(module: Any) -> list[str]:
    from celery import Celery

    return [name for name, value in vars(module).items() if isinstance(value, Celery)]


def _describe(value: object) -> str:
    import inspect

    if inspect.ismodule(value):
        return f"the module '{value.__name__}'"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"a {type(value).__name__} ({text})"


def _where(error: BaseException) -> str:
    """` (at file.py, line N)`: where the project's code raised."""
    frames = traceback.extract_tb(error.__traceback__)
    project_frames = [frame for frame in frames if "importlib" not in frame.filename]
    if isinstance(error, SyntaxError) and error.filename:
        return f" (at {error.filename}, line {error.lineno})"
    if not project_frames:
        return ""
    frame = project_frames[-1]
    return f" (at {frame.filename}, line {frame.lineno})"
