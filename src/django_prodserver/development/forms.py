"""What each process of PRODUCTION_PROCESSES becomes under `manage.py devserver`.

- DEV, when the definition has one, says it: another BACKEND, ARGS, ENV.
- A development server (runserver, Werkzeug's, daphne's runserver) runs as it is.
- Another web server is replaced by the development server that serves the same kind of
  application, on 127.0.0.1 at the port it is configured with: Django's runserver for a
  WSGI server, daphne's runserver for an ASGI one when daphne's app provides `runserver`,
  else uvicorn with `--reload`. Each keeps its own reloader.
- A worker runs as configured, restarted by devserver when the code changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec

from django.core.management import get_commands

from django_prodserver.backends.base import Address, Backend, Plan
from django_prodserver.errors import ProdserverError
from django_prodserver.planning import plan_loaded
from django_prodserver.processes import ProcessSpec

RUNSERVER = "django_prodserver.backends.dev.django_runserver.DjangoRunserver"
DAPHNE_RUNSERVER = "django_prodserver.backends.dev.daphne.DaphneRunserver"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"
DEFAULT_PORT = 8000
# Time the reloader takes beyond its worker's STOP_TIMEOUT to kill it and end.
RELOADER_MARGIN = 5.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class DevelopmentProcess:
    """A process as devserver runs it: `spec` is what runs (its backend loaded, `backend`),
    `configured` the definition."""

    spec: ProcessSpec
    configured: ProcessSpec
    backend: Backend
    # How it came to be: "DEV", "as configured", "in place of gunicorn (WSGI)".
    origin: str
    # The port devserver gave it (run together, no address of its own): its PORT.
    given_port: int | None = None

    @property
    def kind(self) -> str:
        return self.backend.kind

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def reloaded_by_devserver(self) -> bool:
        """Workers are restarted by devserver; web servers reload themselves."""
        return self.kind == "worker"

    @property
    def supervised(self) -> ProcessSpec:
        """The spec as the runner reads it: a worker's reloader stops on SIGTERM, and
        takes its worker's own STOP_SIGNAL and STOP_TIMEOUT, with a margin to end."""
        if not self.reloaded_by_devserver:
            return self.spec
        timeout = self.spec.stop_timeout + RELOADER_MARGIN
        return dataclasses.replace(self.spec, stop_signal="SIGTERM", stop_timeout=timeout)


def development_form(
    spec: ProcessSpec, load: Callable[[ProcessSpec], Backend], given_port: int | None = None
) -> DevelopmentProcess:
    """The development form of one process, its backend loaded with `load()` (once);
    `given_port`: the port devserver gives a web server without an address of its own.

    A web server that devserver replaces is planned, once, to read its address and the
    interface it serves; its replacement is loaded (once) in its place.
    """
    if spec.dev is not None:
        dev = spec.with_dev_override()
        return DevelopmentProcess(dev, spec, load(dev), "DEV")
    backend = load(spec)
    if backend.kind != "web" or backend.development_server:
        return DevelopmentProcess(spec, spec, backend, "as configured")
    # Planned to read the address and the interface; the server may not be installed here.
    plan = plan_loaded(spec, backend).plan
    interface = served_interface(backend, plan)
    if interface is None:
        return DevelopmentProcess(spec, spec, backend, "as configured (set DEV to replace it)")
    address = development_address(backend, plan)
    port = given_port or address.port or DEFAULT_PORT
    host = address.host if address.host in LOOPBACK else "127.0.0.1"
    addrport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    replacement: tuple[str, dict[str, object]]
    if interface == "wsgi":
        replacement = (RUNSERVER, {"addrport": addrport})
    elif get_commands().get("runserver") == "daphne":
        replacement = (DAPHNE_RUNSERVER, {"addrport": addrport})
    elif find_spec("uvicorn") is not None:
        replacement = (UVICORN, {"host": host, "port": port, "reload": True})
    else:
        raise ProdserverError(
            f"Process '{spec.name}': devserver serves an ASGI application with uvicorn "
            f"(`--reload`) or daphne's runserver, and neither is available.\n"
            f"Install one: pip install 'django-prodserver[uvicorn]', or set DEV for "
            f"'{spec.name}' in PRODUCTION_PROCESSES."
        )
    path, args = replacement
    dev = dataclasses.replace(spec, backend=path, args=args, app=None)
    return DevelopmentProcess(
        dev, spec, load(dev), f"in place of {backend.server} ({interface.upper()})", given_port
    )


def served_interface(backend: Backend, plan: Plan | None) -> str | None:
    """ "wsgi" or "asgi" for a server that devserver knows how to replace; None otherwise."""
    interface = getattr(backend, "interface", None)
    serves = getattr(backend, "served_interface", None)
    if plan is not None and serves is not None:
        interface = serves(plan)
    return interface if interface in ("wsgi", "asgi") else None


def development_address(backend: Backend, plan: Plan | None) -> Address:
    """Where the configured server listens; the default port when that cannot be told."""
    address = backend.listen_address(plan) if plan is not None else None
    if address is None or address.path is not None:
        return Address("127.0.0.1", DEFAULT_PORT)
    return address


def url_of(backend: Backend, plan: Plan) -> str | None:
    """`http://127.0.0.1:8000/` for a planned web process, to print before the start."""
    address = backend.listen_address(plan)
    if address is None or address.port is None:
        return None
    host = f"[{address.host}]" if ":" in address.host else address.host
    return f"http://{host}:{address.port}/"
