"""Whether a Celery process's broker can be used: its transport loads, and it answers.

The transport check imports and builds the transport (no network), so it runs whenever
a plan is made. Reaching the broker is only done right before a start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_prodserver.errors import MissingPackageError, ProdserverError
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
    except ModuleNotFoundError as error:
        # A package the transport imports beyond its own (kombu's `packaging`, for one).
        missing = (error.name or str(error)).split(".")[0]
        raise MissingPackageError(
            f"Process '{process}': the Celery broker {mask_secrets(url)} needs the package "
            f"'{missing}', which is not installed.\nInstall it with: pip install {missing}"
        ) from None
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
