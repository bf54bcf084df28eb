"""uvicorn: options from uvicorn's own click command; the `uvicorn` command runs it."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django_prodserver.backends.base import Address, Plan
from django_prodserver.backends.click_options import check_with_click, click_option_table
from django_prodserver.backends.command import ServerBackend
from django_prodserver.options import OptionTable, OptionValue


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
        given = plan.option_values("--timeout-graceful-shutdown")
        return float(given[-1]) if given else None  # uvicorn waits for every request

    def listen_address(self, plan: Plan) -> Address | None:
        return click_address(uvicorn_command(), plan, socket_flag="--uds")


def click_address(command: Any, plan: Plan, socket_flag: str) -> Address | None:
    """The address of a server whose click command takes `--host`, `--port` and a socket."""
    socket_path = plan.option_values(socket_flag)
    if socket_path:
        return Address(path=socket_path[-1])
    if plan.option_values("--fd"):
        return None
    defaults = {param.name: param.default for param in command.params}
    host = plan.option_values("--host") or [str(defaults["host"])]
    port = plan.option_values("--port") or [str(defaults["port"])]
    return Address(host=host[-1], port=int(port[-1]))


class UvicornWSGIServer(UvicornServer):
    """uvicorn serving the project's WSGI application (`--interface=wsgi`)."""

    interface = "wsgi"

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        options, application = super().configured_options(table)
        if not any(item.option.key == "interface" for item in options):
            options = [*table.from_mapping({"interface": "wsgi"}, self.name), *options]
        return options, application
