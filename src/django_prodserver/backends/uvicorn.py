"""uvicorn: options from uvicorn's own click command; the `uvicorn` command runs it."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from django_prodserver.backends.base import Address, Plan, planned_address
from django_prodserver.backends.web_server import ServerBackend
from django_prodserver.errors import MissingPackageError, OptionError
from django_prodserver.options import OptionTable, OptionValue
from django_prodserver.options.from_click import (
    check_with_click,
    click_default,
    click_option_table,
)
from django_prodserver.packages import pip_line
from django_prodserver.suggestions import did_you_mean

# Runs `uvicorn ARGS` with TCP_NODELAY on the sockets uvicorn binds itself (serving/uvicorn.py).
RUNTIME_MODULE = "django_prodserver.serving.uvicorn"
# Every inherited socket, for that module: uvicorn's `--fd` takes one.
SERVE_FDS = "DJANGO_PRODSERVER_UVICORN_FDS"  # serving.uvicorn's name for it

# The options that name an implementation, and uvicorn's own table of their names
# (uvicorn.config: LOOP_SETUPS became LOOP_FACTORIES in 0.36).
IMPLEMENTATIONS = {
    "loop": ("LOOP_FACTORIES", "LOOP_SETUPS"),
    "http": ("HTTP_PROTOCOLS",),
    "ws": ("WS_PROTOCOLS",),
    "lifespan": ("LIFESPAN",),
}
# The packages those implementations import; uvicorn[standard] brings the first three.
IMPLEMENTATION_PACKAGES = {
    "uvloop": pip_line("uvicorn"),
    "httptools": pip_line("uvicorn"),
    "websockets": pip_line("uvicorn"),
    "wsproto": "pip install wsproto",
}


@cache
def uvicorn_command() -> Any:
    from uvicorn.main import main

    return main


class UvicornServer(ServerBackend):
    """An ASGI server (`uvicorn`): async views, WebSockets; `--workers` for processes."""

    server = "uvicorn"
    module = "uvicorn"
    extra = "uvicorn"
    interface = "asgi"
    takes_sockets = True
    address_options = ("host", "port", "uds", "fd")
    port_defaults = {"host": "0.0.0.0", "port": "{port}"}  # noqa: RUF012 - read only
    workers_option = "workers"

    def option_table(self) -> OptionTable:
        return click_option_table("uvicorn", uvicorn_command())

    def validate(self, argv: Sequence[str]) -> None:
        check_with_click(uvicorn_command(), argv, "uvicorn", self.name)

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        plan = super().plan(overrides, env)
        for key in IMPLEMENTATIONS:
            value = plan.value(key)
            if value is not None:
                check_implementation(self.name, key, value)
        # The dry-run line stays `uvicorn ...`; this process runs it through a module of
        # ours, which sets what uvicorn's `--workers` mode leaves unset.
        return replace(plan, module=RUNTIME_MODULE)

    def socket_unit_settings(self, plan: Plan) -> Mapping[str, str]:
        backlog = plan.value("backlog") or str(click_default(uvicorn_command(), "backlog"))
        return {"Backlog": backlog, "SocketMode": "0666"}  # uvicorn's mode for --uds

    def socket_options(self, fds: Sequence[int]) -> Mapping[str, object]:
        return {"fd": fds[0]}

    def serve_on_sockets(self, plan: Plan, fds: Sequence[int]) -> tuple[Plan, list[str]]:
        on_sockets, replaced = super().serve_on_sockets(plan, fds)
        listed = ",".join(map(str, fds))
        note = (
            f"{RUNTIME_MODULE} serves every fd of {SERVE_FDS}, with --workers too; "
            f"uvicorn's --fd takes one"
        )
        env = {**on_sockets.env, SERVE_FDS: listed}
        return replace(on_sockets, env=env, note=note if len(fds) > 1 else None), replaced

    def graceful_timeout(self, plan: Plan) -> float | None:
        given = plan.value("timeout_graceful_shutdown")
        return float(given) if given else None  # uvicorn waits for every request

    def listen_address(self, plan: Plan) -> Address | None:
        return planned_address(
            plan,
            socket="uds",
            default_host=click_default(uvicorn_command(), "host"),
            default_port=click_default(uvicorn_command(), "port"),
            elsewhere=("fd",),
        )


class UvicornWSGIServer(UvicornServer):
    """uvicorn serving the project's WSGI application (`--interface=wsgi`)."""

    interface = "wsgi"

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        options, application = super().configured_options(table)
        if not any(item.option.key == "interface" for item in options):
            options = [*table.from_mapping({"interface": "wsgi"}, self.name), *options]
        return options, application


def check_implementation(process: str, key: str, value: str) -> None:
    """Import the implementation `--loop`, `--http`, `--ws` or `--lifespan` names, now.

    uvicorn imports it in each worker once started: a missing package would crash every
    worker, again and again, while the process itself kept running.
    """
    import uvicorn.config

    known: dict[str, str | None] = next(
        getattr(uvicorn.config, name)
        for name in IMPLEMENTATIONS[key]
        if hasattr(uvicorn.config, name)
    )
    if value not in known and ":" not in value:
        raise OptionError(
            f"Process '{process}': uvicorn's `{key}` is {value!r}, which is not one of "
            f"{', '.join(known)}{did_you_mean(value, known)}, nor a `module:attribute` path."
        )
    path = known.get(value, value)
    if path is None:
        return
    module, _, attribute = path.partition(":")
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as error:
        missing = (error.name or module).split(".")[0]
        fix = IMPLEMENTATION_PACKAGES.get(missing, f"pip install {missing}")
        raise MissingPackageError(
            f"Process '{process}': uvicorn's `{key}` {value!r} needs the package "
            f"'{missing}', which is not installed.\nInstall it with: {fix}"
        ) from None
    except Exception as error:
        raise OptionError(
            f"Process '{process}': uvicorn's `{key}` {value!r} cannot be loaded: "
            f"{type(error).__name__}: {error}"
        ) from None
    if attribute and not hasattr(loaded, attribute):
        public = [name for name in vars(loaded) if not name.startswith("_")]
        raise OptionError(
            f"Process '{process}': uvicorn's `{key}` {value!r} does not exist: the module "
            f"`{module}` has no `{attribute}`{did_you_mean(attribute, public)}."
        )
