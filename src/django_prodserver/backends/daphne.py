"""daphne: options from daphne's own argparse parser; the `daphne` command runs it.

`DaphneRunserver` is daphne's development server instead: the `runserver` command that
daphne's Django app puts in place of Django's, serving ASGI with the autoreloader.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from functools import cache
from typing import Any, NoReturn

from django.conf import settings
from django.core.management import get_commands

from django_prodserver.applications import asgi_application
from django_prodserver.backends.base import Address, Plan, planned_address
from django_prodserver.backends.command import ServerBackend
from django_prodserver.backends.dev.django_runserver import RunserverBackend
from django_prodserver.errors import ApplicationError, OptionError, ProdserverError
from django_prodserver.options import OptionTable
from django_prodserver.options.from_argparse import argparse_option_table

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
    address_options = ("bind", "port", "unix_socket", "fd", "endpoint")
    port_defaults = {"bind": "0.0.0.0", "port": "{port}"}  # noqa: RUF012 - read only

    def option_table(self) -> OptionTable:
        return option_table()

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
    """daphne's `runserver`: Django's development server, serving ASGI through daphne."""

    server = "daphne runserver"
    app_name = "daphne"
    module = "daphne"
    extra = "daphne"
    package = "daphne"

    def check_installed(self) -> None:
        first = 'INSTALLED_APPS = ["daphne", *INSTALLED_APPS]'
        if "daphne" not in settings.INSTALLED_APPS:
            raise ProdserverError(
                f"Process '{self.name}': daphne's runserver needs \"daphne\" in INSTALLED_APPS "
                f"(its app provides the `runserver` command), before "
                f"django.contrib.staticfiles.\nAdd it first: {first}"
            )
        owner = get_commands()["runserver"]
        if owner != "daphne":
            raise ProdserverError(
                f"Process '{self.name}': `manage.py runserver` is {owner}'s, not daphne's: "
                f'"daphne" must come before {owner} in INSTALLED_APPS.\nMove it first: {first}'
            )

    def check_plan(self, plan: Plan) -> None:
        super().check_plan(plan)
        if plan.switched_on("noasgi") or getattr(settings, "ASGI_APPLICATION", None):
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
