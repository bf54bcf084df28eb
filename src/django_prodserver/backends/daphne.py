"""daphne: options from daphne's own argparse parser; the `daphne` command runs it.

`DaphneRunserver` is daphne's development server instead: the `runserver` command that
daphne's Django app puts in place of Django's, serving ASGI with the autoreloader.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import Any, NoReturn

from django.conf import settings
from django.core.management import get_commands

from django_prodserver.applications import asgi_application
from django_prodserver.backends.base import Address, Plan, planned_address
from django_prodserver.backends.dev.django_runserver import RunserverBackend
from django_prodserver.backends.web_server import ServerBackend
from django_prodserver.errors import ApplicationError, OptionError, ProdserverError
from django_prodserver.options import OptionTable
from django_prodserver.options.from_argparse import argparse_option_table

# Runs `daphne ARGS` with an `fd:` endpoint that adopts unix and IPv6 sockets too.
RUNTIME_MODULE = "django_prodserver.serving.daphne"
# daphne's runserver command, as --dry-run names it when it runs inside `prodserver`.
RUNSERVER_COMMAND = "daphne.management.commands.runserver.Command"
# daphne's `run()` maps --verbosity through a dict of these levels; another is a KeyError.
VERBOSITY_LEVELS = (0, 1, 2, 3)


@cache
def option_table() -> OptionTable:
    return argparse_option_table("daphne", daphne_interface().parser)


def daphne_interface() -> Any:
    """daphne's command line (importing it installs Twisted's asyncio reactor)."""
    from daphne.cli import CommandLineInterface

    return CommandLineInterface()


class DaphneServer(ServerBackend):
    """The ASGI server of Django Channels (`daphne`): HTTP, HTTP/2 and WebSockets, one process."""

    server = "daphne"
    module = "daphne"
    extra = "daphne"
    interface = "asgi"
    takes_sockets = True
    address_options = ("bind", "port", "unix_socket", "fd", "endpoint")
    port_defaults = {"bind": "0.0.0.0", "port": "{port}"}  # noqa: RUF012 - read only

    def option_table(self) -> OptionTable:
        return option_table()

    def socket_unit_settings(self, plan: Plan) -> Mapping[str, str]:
        # Twisted's endpoints: a listen backlog of 50; a unix socket of mode 0666.
        return {"Backlog": "50", "SocketMode": "0666"}

    def socket_options(self, fds: Sequence[int]) -> Mapping[str, object]:
        return {"endpoint": [f"fd:fileno={fd}" for fd in fds]}

    def serve_on_sockets(self, plan: Plan, fds: Sequence[int]) -> tuple[Plan, list[str]]:
        on_sockets, replaced = super().serve_on_sockets(plan, fds)
        note = f"run by {RUNTIME_MODULE}, whose fd: endpoint adopts unix and IPv6 sockets too"
        return replace(on_sockets, module=RUNTIME_MODULE, note=note), replaced

    def listen_address(self, plan: Plan) -> Address | None:
        from daphne.cli import DEFAULT_HOST, DEFAULT_PORT

        return planned_address(
            plan,
            socket="unix_socket",
            host="bind",
            default_host=DEFAULT_HOST,
            default_port=DEFAULT_PORT,
            elsewhere=("fd", "endpoint"),
        )

    def validate(self, argv: Sequence[str]) -> None:
        """Parse the argv with daphne's parser, then make the checks daphne makes when it runs."""
        interface = daphne_interface()
        interface.parser.error = self._parser_error
        args = interface.parser.parse_args(list(argv))
        if args.verbosity not in VERBOSITY_LEVELS:
            raise OptionError(
                f"Process '{self.name}': daphne's `verbosity` is 0, 1, 2 or 3, "
                f"got {args.verbosity}."
            )
        try:  # --proxy-headers-host and --proxy-headers-port need --proxy-headers.
            interface._get_forwarded_host(args=args)
            interface._get_forwarded_port(args=args)
        except argparse.ArgumentError as error:
            self._parser_error(str(error))

    def _parser_error(self, message: str) -> NoReturn:
        raise OptionError(
            f"Process '{self.name}': daphne rejects the options: {message.rstrip('.')}."
        )


class DaphneRunserver(RunserverBackend):
    """daphne's `runserver`: Django's development server, serving ASGI through daphne.

    The command is loaded from daphne's package, so "daphne" need not be in
    INSTALLED_APPS (as with django-prodserver 3.0, which drove daphne's server itself).
    When it is, first, the plan is `manage.py runserver`, which is then daphne's; else
    `manage.py runserver` typed by hand would be another app's, and the plan says that
    daphne's command runs inside `manage.py prodserver`.
    """

    server = "daphne runserver"
    app_name = "daphne"
    module = "daphne"
    extra = "daphne"
    package = "daphne"

    def check_installed(self) -> None:
        """Nothing to check: daphne's command runs whether its app is installed or not."""

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        plan = super().plan(overrides, env)
        owner = get_commands().get("runserver")
        if owner == "daphne":
            return plan
        return replace(
            plan,
            argv=(RUNSERVER_COMMAND, *plan.argv[3:]),
            note=f"run inside `manage.py prodserver {self.name}`: `manage.py runserver` is "
            f'{owner}\'s without "daphne" first in INSTALLED_APPS',
        )

    def run(self, plan: Plan) -> int | None:
        if plan.argv[0] != RUNSERVER_COMMAND:
            return super().run(plan)
        os.environ.update(plan.env)
        self.load_command().run_from_argv(["manage.py", self.command, *plan.argv[1:]])
        return None

    def check_plan(self, plan: Plan) -> None:
        super().check_plan(plan)
        if plan.switched_on("noasgi"):
            return
        if getattr(settings, "ASGI_APPLICATION", None):
            asgi_application(self.name)  # its module must be there
            return
        try:
            module, _, attribute = asgi_application(self.name).partition(":")
            example = f"'{module}.{attribute}'"
        except ApplicationError:
            example = "'myproject.asgi.application'"
        raise ProdserverError(
            f"Process '{self.name}': daphne's runserver serves the ASGI_APPLICATION setting, "
            f"which is not set.\nSet it to the application of your asgi.py: "
            f"ASGI_APPLICATION = {example}"
        )
