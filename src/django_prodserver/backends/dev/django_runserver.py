"""Django's `runserver`, with its autoreloader: options from the command's own parser.

The plan is `python manage.py runserver ...`; `run()` calls the same command in this
process, as `ManagementCommandBackend` does for a worker's command. It is the command
that `manage.py runserver` runs: Django's, or the one an installed app puts in its place.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.core.management import BaseCommand, get_commands, load_command_class

from django_prodserver.backends.base import Address, Plan
from django_prodserver.backends.management_command import ManagementCommandBackend
from django_prodserver.errors import ProdserverError
from django_prodserver.options import OptionTable, OptionValue
from django_prodserver.options.addrport import parse_addrport, split_addrport


class RunserverBackend(ManagementCommandBackend):
    """A `runserver` command: ARGS are its options, `addrport` its positional argument."""

    kind = "web"
    command = "runserver"
    development_server = True
    sockets_refusal = (
        "a development server binds its own address (and its reloader restarts it there)"
    )

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        if isinstance(self.spec.args, Mapping):
            args, positional = split_addrport(self.spec.args, self.name)
            return table.from_mapping(args, self.name), positional
        return super().configured_options(table)

    def check_plan(self, plan: Plan) -> None:
        parse_addrport(plan.positionals[0] if plan.positionals else None, self.name)
        if not settings.DEBUG and not settings.ALLOWED_HOSTS:
            raise ProdserverError(
                f"Process '{self.name}': runserver refuses to start with DEBUG = False and "
                f"ALLOWED_HOSTS empty.\nSet ALLOWED_HOSTS = ['127.0.0.1', 'localhost']."
            )

    def listen_address(self, plan: Plan) -> Address | None:
        addrport = plan.positionals[0] if plan.positionals else None
        host, port = parse_addrport(addrport, self.name)
        if plan.switched_on("ipv6") and (not addrport or addrport.isdigit()):
            host = "::1"
        return Address(host=host, port=port)


class DjangoRunserver(RunserverBackend):
    """Django's development server (`manage.py runserver`), reloading on code changes."""

    server = "runserver"
    app_name = "django.core"
    module = "django"
    extra = "django"
    package = "Django"

    def required_apps(self) -> tuple[str, ...]:
        return ()

    def load_command(self) -> BaseCommand:
        # staticfiles (or another app, such as daphne) may put its runserver in Django's place.
        app = get_commands()["runserver"]
        return app if isinstance(app, BaseCommand) else load_command_class(app, "runserver")
