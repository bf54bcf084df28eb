"""The backend API: what every server module (ours or a third party's) provides."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NoReturn

from django_prodserver.bounds import LARGEST_PORT, shown, whole_number

# 3.0's base classes, at 3.0's path (their home is compat/api.py).
from django_prodserver.compat.api import BaseProcessBackend as BaseProcessBackend
from django_prodserver.compat.api import BaseServerBackend as BaseServerBackend
from django_prodserver.compat.api import BaseWorkerBackend as BaseWorkerBackend
from django_prodserver.lifecycle.replacing import replace_this_process
from django_prodserver.masking import mask_secrets
from django_prodserver.options import OptionTable, OptionValue, override
from django_prodserver.processes import ProcessSpec
from django_prodserver.project import project_folder


@dataclass(frozen=True)
class Plan:
    """How a process runs: the command line a person could type, and its environment.

    `argv` is what `--dry-run` prints; running it by hand (with `env` set) starts the
    same server as `prodserver NAME`. `env` holds only what differs from the current
    environment. `module`, when set, is the Python module that runs `argv` here
    (`python -m module`), so that the server is found without the virtualenv on PATH.
    `options` and `positionals` are what `argv` renders, validated, for what needs to
    know an option's value (an address, a timeout, the queues) without reading the
    line back.
    """

    process: str
    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)
    module: str | None = None
    options: tuple[OptionValue, ...] = ()
    positionals: tuple[str, ...] = ()
    # Said after the line when `argv` is not a command a shell could run as it is.
    note: str | None = None
    # The inherited listening sockets (fd numbers) the server serves on instead of its
    # configured address (inherited_sockets.py); empty: it binds its own.
    inherited_fds: tuple[int, ...] = ()

    def command_line(self) -> str:
        """The shell-quoted line, secrets masked."""
        words = [f"{name}={value}" for name, value in self.env.items()] + list(self.argv)
        line = shlex.join(words) + (f"  # {self.note}" if self.note else "")
        return mask_secrets(line)

    def values(self, *keys: str) -> tuple[str, ...]:
        """The values given to the options called `keys` (the server's own keys)."""
        return tuple(
            value for item in self.options if item.option.key in keys for value in item.values
        )

    def value(self, key: str) -> str | None:
        """The value of option `key`, the last one if it is given several; None: unset."""
        values = self.values(key)
        return values[-1] if values else None

    def switched_on(self, key: str) -> bool:
        """Whether the flag `key` is switched on in the line."""
        return any(
            item.option.key == key and item.tokens and item.tokens[0] in item.option.flags
            for item in self.options
        )


class AddressError(ValueError):
    """An address whose port is no port (`127.0.0.1:²`, `:99999`); its text says which."""


def port_number(text: str) -> int:
    """`text` as a port: ASCII digits (`"²".isdigit()` is True) from 0 to 65535."""
    port = whole_number(text, LARGEST_PORT)
    if port is None:
        raise AddressError(f"the port {shown(text)} is not a number from 0 to {LARGEST_PORT}.")
    return port


@dataclass(frozen=True)
class Address:
    """Where a web server listens: a TCP `host` and `port`, or the unix socket at `path`."""

    host: str = ""
    port: int | None = None
    path: str | None = None

    @classmethod
    def parse(cls, text: str, default_port: int) -> Address | None:
        """`HOST:PORT`, `[::1]:PORT`, `HOST`, `unix:PATH`; None for a file descriptor (`fd://3`)."""
        if text.startswith("unix:"):
            return cls(path=text[len("unix:") :])
        if text.startswith("fd://"):
            return None
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = rest.removeprefix(":")
        elif text.count(":") == 1:
            host, _, port = text.partition(":")
        else:
            host, port = text, ""
        try:
            return cls(host=host, port=port_number(port) if port else default_port)
        except AddressError as error:
            raise AddressError(f"the address {text!r}: {error}") from None


def planned_address(
    plan: Plan,
    *,
    socket: str,
    default_host: str,
    default_port: int,
    host: str = "host",
    port: str = "port",
    elsewhere: Sequence[str] = (),
) -> Address | None:
    """Where a planned server listens: the unix socket option `socket`, else host and port.

    None when one of the `elsewhere` options (a file descriptor, an endpoint) says where.
    """
    socket_path = plan.value(socket)
    if socket_path:
        return Address(path=socket_path)
    if plan.values(*elsewhere):
        return None
    return Address(
        host=plan.value(host) or default_host,
        port=port_number(plan.value(port) or str(default_port)),
    )


class Backend:
    """Base class of backends.

    A backend is made from a `ProcessSpec`. `plan()` validates the options and says
    what would run; `run()` starts it in the foreground and returns only when it
    stops. The default `run()` replaces this process with the plan's command, which
    is right for any server that has a command of its own.
    """

    kind: ClassVar[str] = "web"
    server: ClassVar[str] = "server"
    # A process that must never run twice at once (a scheduler such as Celery beat):
    # exported engine files give it one replica whatever is asked.
    single_instance: ClassVar[bool] = False
    # A development server with a reloader of its own: `manage.py devserver` runs it as it is.
    development_server: ClassVar[bool] = False
    # Whether a web server of this backend can serve on listening sockets it inherits
    # (systemd's socket activation, the runner's): `serve_on_sockets` then says how.
    takes_sockets: ClassVar[bool] = False
    # Why it cannot, when it cannot, and what to do instead: said when it is given sockets.
    sockets_refusal: ClassVar[str] = (
        "it has no way to serve on a socket it inherits; let it bind its configured address"
    )
    # The signal on which the server itself replaces its workers one at a time, new code
    # included, without closing its port or losing a request (systemd's ExecReload).
    reload_signal: ClassVar[str | None] = None
    # Where this backend came from, when the BACKEND path alone does not say it (`--list`
    # shows it): the worker a TASKS backend needs, a package's entry point.
    origin: str | None = None

    def __init__(self, spec: ProcessSpec) -> None:
        self.spec = spec

    def resolved(self) -> Backend:
        """The backend that plans and runs the process: this one, unless it stands for another.

        `TasksWorker` stands for the worker of a TASKS backend (db_worker, rqworker, ...),
        which every command then uses as it uses a backend named in BACKEND. Resolving must
        not fail where the process is not started (`migrate`, `runserver`): a backend that
        cannot tell returns itself, and its plan() says why.
        """
        return self

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        raise NotImplementedError

    # The option pipeline: ARGS, then the options typed after the name, which replace them.

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        """The options and positional arguments that ARGS holds."""
        if isinstance(self.spec.args, Mapping):
            return table.from_mapping(self.spec.args, self.name), []
        return table.from_argv(self.spec.args, self.name)

    def resolved_options(
        self, table: OptionTable, overrides: Sequence[str]
    ) -> tuple[list[OptionValue], list[str]]:
        """ARGS with the typed options in their place; typed positionals replace ARGS' ones."""
        configured, positional = self.configured_options(table)
        typed, typed_positional = table.from_argv(overrides, self.name)
        return override(configured, typed), typed_positional or positional

    def run(self, plan: Plan) -> int | None:
        exec_plan(plan)

    def serve_on_sockets(self, plan: Plan, fds: Sequence[int]) -> tuple[Plan, list[str]]:
        """`plan` serving on the inherited listening sockets `fds` instead of its address.

        Returns the new plan and what it no longer does ("bind=0.0.0.0:8000"). Only called
        when `takes_sockets` is True.
        """
        raise NotImplementedError

    def socket_unit_settings(self, plan: Plan) -> Mapping[str, str]:
        """systemd [Socket] settings that bind the address as this server would bind it
        (`Backlog`, `SocketMode` of a unix socket); empty: systemd's defaults."""
        return {}

    def graceful_timeout(self, plan: Plan) -> float | None:
        """Seconds the server may take to finish its work once asked to stop; None: unknown.

        Engines that run the process wait at least this long before they kill it.
        """
        return None

    def listen_address(self, plan: Plan) -> Address | None:
        """Where a web process listens, for engines' health checks; None: not known."""
        return None

    def warms_up(self, plan: Plan) -> bool:
        """Whether this server honours HEALTH['WARMUP'] (one request served before it listens)."""
        return False

    def probe(self, plan: Plan) -> str | None:
        """`prodserver --probe NAME`: ask the running process whether it is alive and responsive.

        Return what was seen (a sentence), or raise `ProbeFailed`. None: the framework
        offers no check of its own, and the probe does the default: an HTTP GET to a web
        process's health path, a look for a worker's process.
        """
        return None

    def runtime_files(self, plan: Plan) -> str | None:
        """What the process keeps in `$XDG_RUNTIME_DIR` while it runs ("gunicorn's control
        socket"), for the exports to give it a folder it can write; None: nothing."""
        return None

    def state_files(self, plan: Plan) -> str | None:
        """What the process keeps from one start to the next in `$STATE_DIRECTORY`, systemd's
        name for the folder of a service's state ("celery beat's schedule"); None: nothing."""
        return None

    def environment_beside(self, others: Sequence[Backend]) -> Mapping[str, str]:
        """Variables this process needs to run beside `others` under one runner.

        The runner asks each backend, knowing none: gunicorn, for one, gives each of
        several gunicorn processes a control socket of its own.
        """
        return {}

    @property
    def name(self) -> str:
        return self.spec.name


def exec_plan(plan: Plan) -> NoReturn:
    """Become the planned command: same PID, so signals and exit status are the server's."""
    argv = [sys.executable, "-m", plan.module, *plan.argv[1:]] if plan.module else list(plan.argv)
    replace_this_process(argv, with_project_on_path({**os.environ, **plan.env}))


def with_project_on_path(env: dict[str, str]) -> dict[str, str]:
    """`env` with manage.py's folder on PYTHONPATH.

    A server started from another working directory must still import the project.
    """
    project = str(project_folder())
    paths = [path for path in env.get("PYTHONPATH", "").split(os.pathsep) if path]
    if project not in paths:
        env["PYTHONPATH"] = os.pathsep.join([*paths, project])
    return env
