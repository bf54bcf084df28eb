"""uvicorn: options from uvicorn's own click command; the `uvicorn` command runs it."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django_prodserver.backends.base import Address, Plan, planned_address
from django_prodserver.backends.command import ServerBackend
from django_prodserver.options import OptionTable, OptionValue
from django_prodserver.options.from_click import (
    check_with_click,
    click_default,
    click_option_table,
)


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
    address_options = ("host", "port", "uds", "fd")
    port_defaults = {"host": "0.0.0.0", "port": "{port}"}  # noqa: RUF012 - read only
    workers_option = "workers"

    def option_table(self) -> OptionTable:
        return click_option_table("uvicorn", uvicorn_command())

    def validate(self, argv: Sequence[str]) -> None:
        check_with_click(uvicorn_command(), argv, "uvicorn", self.name)

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
