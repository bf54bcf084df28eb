"""Werkzeug's development server, with its debugger and reloader: what django-extensions'
`runserver_plus` runs, without django-extensions.

Werkzeug has no command of its own to start a Django project, so the server runs in this
process (`werkzeug.serving.run_simple`), and `--dry-run` prints that call, with the
options it gets, rather than a command line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings

from django_prodserver.applications import check_attribute, colon_form, wsgi_application
from django_prodserver.backends.base import Address, Backend, Plan
from django_prodserver.errors import OptionError
from django_prodserver.masking import mask_secrets
from django_prodserver.options import Option, OptionTable, render
from django_prodserver.options.addrport import parse_addrport
from django_prodserver.packages import require

SERVER = "runserver_plus"
# The names runserver_plus documents; its defaults: reloader and debugger on, one thread.
OPTIONS = OptionTable(
    SERVER,
    [
        Option("addrport", ("--addrport",)),
        Option("threaded", ("--threaded",), ("--nothreading",), takes_value=False),
        Option("use_reloader", ("--use-reloader",), ("--noreload",), takes_value=False),
        Option("use_debugger", ("--use-debugger",), ("--nodebugger",), takes_value=False),
        Option("cert_file", ("--cert-file",)),
        Option("key_file", ("--key-file",)),
    ],
)
DEFAULTS = {"threaded": False, "use_reloader": True, "use_debugger": True}


@dataclass(frozen=True)
class WerkzeugPlan(Plan):
    """A plan whose server is a call in this process: `--dry-run` prints the call."""

    host: str = ""
    port: int = 0
    application: str = ""
    static: bool = False  # wrapped in staticfiles' handler, as runserver_plus does
    switches: Mapping[str, bool] | None = None
    ssl: tuple[str, str] | None = None

    def call(self) -> str:
        switches = dict(self.switches or DEFAULTS)
        app = f"StaticFilesHandler({self.application})" if self.static else self.application
        arguments = [repr(self.host), str(self.port), app]
        arguments += [f"{key}={value}" for key, value in switches.items()]
        if self.ssl:
            arguments.append(f"ssl_context={self.ssl!r}")
        return f"werkzeug.serving.run_simple({', '.join(arguments)})"

    def command_line(self) -> str:
        env = "".join(f"{name}={value} " for name, value in self.env.items())
        return mask_secrets(
            f"{env}in this process (manage.py prodserver {self.process}): {self.call()}"
        )


class WerkzeugRunserver(Backend):
    """Werkzeug's server with its interactive debugger and reloader (runserver_plus)."""

    kind = "web"
    server = SERVER
    development_server = True
    sockets_refusal = (
        "a development server binds its own address (and its reloader restarts it there)"
    )

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        require("werkzeug", "werkzeug", self.name, what="Werkzeug")
        if self.spec.app:
            raise OptionError(
                f"Process '{self.name}': APP is for worker backends such as Celery's; "
                f"{SERVER} serves the project's WSGI application."
            )
        options, positional = self.resolved_options(OPTIONS, overrides)
        if len(positional) > 1:
            raise OptionError(
                f"Process '{self.name}': {SERVER} takes one address (addrport), got "
                f"{' '.join(positional)}."
            )
        addrport = positional[0] if positional else None
        plan = Plan(self.name, (), options=tuple(options), positionals=tuple(positional))
        host, port = parse_addrport(addrport or plan.value("addrport"), self.name)
        switches = {
            key: plan.switched_on(key) if any(o.option.key == key for o in options) else default
            for key, default in DEFAULTS.items()
        }
        return WerkzeugPlan(
            self.name,
            ("werkzeug", *render(options), *positional),
            dict(env or {}),
            options=tuple(options),
            positionals=tuple(positional),
            host=host,
            port=port,
            application=wsgi_application(self.name).replace(":", "."),
            static=settings.DEBUG and apps.is_installed("django.contrib.staticfiles"),
            switches=switches,
            ssl=self.certificate(plan),
        )

    def certificate(self, plan: Plan) -> tuple[str, str] | None:
        cert, key = plan.value("cert_file"), plan.value("key_file")
        if not cert and not key:
            return None
        if not cert or not key:
            given, missing = ("cert_file", "key_file") if cert else ("key_file", "cert_file")
            raise OptionError(
                f"Process '{self.name}': {SERVER} serves HTTPS with both `cert_file` and "
                f"`key_file`; `{given}` is set but `{missing}` is not. Set both, or neither."
            )
        for option, path in (("cert_file", cert), ("key_file", key)):
            if not Path(path).is_file():
                raise OptionError(
                    f"Process '{self.name}': {SERVER}'s `{option}` is '{path}', which is not a "
                    f"file. Give the path of the PEM file."
                )
        return cert, key

    def run(self, plan: Plan) -> int | None:
        from django_prodserver.serving.werkzeug import serve

        assert isinstance(plan, WerkzeugPlan)
        check_attribute(colon_form(plan.application), self.name)
        serve(
            plan.host,
            plan.port,
            static=plan.static,
            ssl_context=plan.ssl,
            env=plan.env,
            **dict(plan.switches or DEFAULTS),
        )
        return None

    def listen_address(self, plan: Plan) -> Address | None:
        return Address(host=plan.host, port=plan.port) if isinstance(plan, WerkzeugPlan) else None


# django-prodserver 3.0's name of this backend (3.0 API), after django-extensions' command.
RunserverPlus = WerkzeugRunserver
