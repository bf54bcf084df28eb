"""What the Celery backends need from the project's Celery application: the app, its broker.

Loading the app imports the project's module (no network), so it runs whenever a plan is
made, `manage.py check` included. Reaching the broker is only done right before a start.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

from django_prodserver.errors import ApplicationError, MissingPackageError, ProdserverError
from django_prodserver.masking import mask_secrets
from django_prodserver.packages import pip_line

if TYPE_CHECKING:
    from celery import Celery

# How long the broker gets to answer before a start is refused: long enough for a broker
# on another host, short enough that a wrong URL is reported at once.
BROKER_TIMEOUT = 2.0
# kombu's transports that need a package of their own: the module, and the pip line.
TRANSPORT_PACKAGES = {
    "redis": ("redis", pip_line("celery")),
    "rediss": ("redis", pip_line("celery")),
    "sentinel": ("redis", pip_line("celery")),
    "sqs": ("boto3", "pip install 'celery[sqs]'"),
    "mongodb": ("pymongo", "pip install 'celery[mongodb]'"),
    "zookeeper": ("kazoo", "pip install 'celery[zookeeper]'"),
    "confluentkafka": ("confluent_kafka", "pip install 'celery[confluentkafka]'"),
    "gcpubsub": ("google.cloud.pubsub_v1", "pip install 'celery[gcpubsub]'"),
    "azureservicebus": ("azure.servicebus", "pip install 'celery[azureservicebus]'"),
    "azurestoragequeues": ("azure.storage.queue", "pip install 'celery[azurestoragequeues]'"),
}
EXAMPLE_APP = "myproject.celery.app"


def load_app(process: str, backend: str, path: str | None) -> Celery:
    """The Celery application that APP names, found as `celery -A` finds it."""
    from celery import Celery
    from celery.app.utils import find_app

    if not path:
        raise ApplicationError(
            f"Process '{process}': {backend} needs APP, the dotted path of your Celery "
            f'application, e.g. "APP": "{EXAMPLE_APP}"'
        )
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


def broker_url(app: Celery, configured: str | None) -> tuple[str, str]:
    """The broker's URL and where it comes from: ARGS, $CELERY_BROKER_URL or the app."""
    import os

    if configured:
        return configured, "`broker` in ARGS"
    if os.environ.get("CELERY_BROKER_URL"):
        return os.environ["CELERY_BROKER_URL"], "$CELERY_BROKER_URL"
    namespace = getattr(app, "namespace", None)
    setting = f"{namespace}_BROKER_URL" if namespace else "broker_url"
    url = app.conf.broker_url
    if not url:
        return "amqp://guest@localhost:5672//", f"Celery's default ({setting} is not set)"
    return str(url), f"the app's {setting}"


def check_transport(process: str, app: Celery, url: str) -> None:
    """The broker's transport loads: its package is installed, its URL parses (no network)."""
    scheme = url.partition("://")[0].split("+")[0].lower()
    module, fix = TRANSPORT_PACKAGES.get(scheme, (None, ""))
    if module and not _installed(module):
        raise MissingPackageError(
            f"Process '{process}': the Celery broker {mask_secrets(url)} needs the package "
            f"'{module.split('.')[0]}', which is not installed.\nInstall it with: {fix}"
        )
    try:
        connection = app.connection_for_write(url)
        try:
            connection.transport  # noqa: B018 - building it imports and checks the transport
        finally:
            connection.release()
    except Exception as error:
        raise ProdserverError(
            f"Process '{process}': the Celery broker URL {mask_secrets(url)} cannot be used: "
            f"{mask_secrets(_one_line(error))} Check CELERY_BROKER_URL (the app's broker_url)."
        ) from None


def _installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_broker(process: str, app: Celery, url: str, source: str) -> None:
    """Connect to the broker once, for at most BROKER_TIMEOUT seconds."""
    check_transport(process, app, url)
    connection: Any = app.connection_for_write(
        url,
        connect_timeout=BROKER_TIMEOUT,
        transport_options={"socket_timeout": BROKER_TIMEOUT},
    )
    try:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
    except Exception as error:
        raise ProdserverError(
            mask_secrets(
                f"Process '{process}': cannot reach the Celery broker at {url} (from {source}): "
                f"{_one_line(error)}\nCheck that the broker is running and reachable from this "
                f"machine, and that its URL, port and password are right."
            )
        ) from None
    finally:
        connection.release()


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if text.endswith(".") else text + "."
