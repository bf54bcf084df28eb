"""granian: options from granian's own click command; the `granian` command runs it.

granian's default interface is RSGI, which Django does not speak, so the plan always
names the interface: `--interface=asgi` or `--interface=wsgi`. The whole command line
is parsed by granian's click command, reading `GRANIAN_*` variables as its entry point
does, and the rules granian itself would only apply once started (one blocking thread
on ASGI, the packages of its extras) are errors before anything starts.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import Any, ClassVar

from django_prodserver.backends.base import Address, Plan, planned_address
from django_prodserver.backends.web_server import ServerBackend
from django_prodserver.errors import MissingPackageError, OptionError
from django_prodserver.options import OptionTable, OptionValue, normalize
from django_prodserver.options.from_click import click_default, click_option_table

RUNTIME_MODULE = "django_prodserver.serving.granian"
# `granian` (its console script) calls `cli(auto_envvar_prefix="GRANIAN")`.
ENVIRONMENT_PREFIX = "GRANIAN"
# Names that other servers' users bring along, and what granian calls the same thing.
OTHER_SERVERS_NAMES = {
    "bind": "granian listens on `host` and `port`, or on a unix socket with `uds`",
}
# The names django-prodserver 3.0's granian backend took, and granian's own parameter for
# each: its settings keep working, and the command line shows granian's own flag.
LEGACY_NAMES = {
    "address": "host",  # granian's Python API name for `--host`
    "threads": "blocking_threads",
    "log_access": "log_access_enabled",  # `--access-log`
    "ssl_cert": "ssl_certificate",
    "ssl_key": "ssl_keyfile",
}
# Event loops granian loads only when their package is installed, and granian's extra for it.
LOOP_PACKAGES = {"uvloop": "uvloop", "rloop": "rloop", "winloop": "winloop"}


@cache
def granian_command() -> Any:
    from granian.cli import cli

    return cli


def parse(argv: Sequence[str], process: str) -> Any:
    """granian's click context for `argv`: every value converted and checked by granian."""
    import click

    try:
        return granian_command().make_context(
            "granian", list(argv), auto_envvar_prefix=ENVIRONMENT_PREFIX
        )
    except click.ClickException as error:
        raise OptionError(
            f"Process '{process}': granian rejects the options: {error.format_message()}"
        ) from None


def from_environment(context: Any, name: str) -> str:
    """` (from $GRANIAN_X)` when the value of parameter `name` came from the environment."""
    from click.core import ParameterSource

    if context.get_parameter_source(name) is ParameterSource.ENVIRONMENT:
        return f" (from ${ENVIRONMENT_PREFIX}_{name.upper()})"
    return ""


def value_of(context: Any, name: str) -> Any:
    value = context.params.get(name)
    return getattr(value, "value", value)  # granian's choices are enums


def check_extras(context: Any, process: str) -> None:
    """Options that need one of granian's extras: granian would stop (or crash) without it."""
    needs = []
    if context.params.get("reload"):
        needs.append(("`reload`", "watchfiles", "reload"))
    if context.params.get("process_name"):
        needs.append(("`process-name`", "setproctitle", "pname"))
    if context.params.get("env_files"):
        needs.append(("`env-files`", "dotenv", "dotenv"))
    loop = value_of(context, "loop")
    if loop in LOOP_PACKAGES:
        needs.append((f"event loop `{loop}`", LOOP_PACKAGES[loop], loop))
    for what, module, extra in needs:
        if importlib.util.find_spec(module) is None:
            package = "python-dotenv" if module == "dotenv" else module
            raise MissingPackageError(
                f"Process '{process}': granian's {what} needs the package '{package}', "
                f"which is not installed.\nInstall it with: pip install 'granian[{extra}]'"
            )


class GranianServer(ServerBackend):
    """granian, a Rust HTTP server; the subclasses say which application it serves."""

    server = "granian"
    module = "granian"
    extra = "granian"
    address_options = ("host", "port", "uds")
    port_defaults = {"host": "0.0.0.0", "port": "{port}"}  # noqa: RUF012 - read only
    workers_option = "workers"
    # granian builds its listening socket in Rust from an address (on Linux each worker binds
    # its own, with SO_REUSEPORT, for TCP); none of its options takes a socket.
    takes_sockets = False
    # Two granians bind one port side by side (SO_REUSEPORT): a reload starts the new first.
    reuses_port = True
    # HUP: granian starts a new worker beside each old one (fresh imports: the project is
    # loaded in the workers only), then stops the old one, which drains (granian_drain).
    reload_signal = "HUP"
    sockets_refusal = (
        "granian binds its own socket from its host and port (on Linux each worker binds "
        "one, with SO_REUSEPORT), and none of its options takes an inherited one"
    )
    # granian's interfaces that serve this backend's application.
    interfaces: ClassVar[tuple[str, ...]] = ()

    def option_table(self) -> OptionTable:
        own = click_option_table("granian", granian_command())
        return OptionTable("granian", own.options, extra_names=LEGACY_NAMES)

    def graceful_timeout(self, plan: Plan) -> float | None:
        # A duration ("30s", "1m"), in seconds as granian reads it; None: it waits for them.
        seconds = parse(plan.argv[1:], self.name).params.get("workers_kill_timeout")
        return None if seconds is None else float(seconds)

    def listen_address(self, plan: Plan) -> Address | None:
        return planned_address(
            plan,
            socket="uds",
            default_host=click_default(granian_command(), "host"),
            default_port=click_default(granian_command(), "port"),
            elsewhere=("fd",),
        )

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        # The dry-run line stays `granian ...`; this process runs it through a module
        # that keeps booting workers from losing a SIGTERM (see serving.granian).
        return replace(super().plan(overrides, env), module=RUNTIME_MODULE)

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        """ARGS, with `--interface` first unless ARGS names it: granian's default is RSGI."""
        if isinstance(self.spec.args, Mapping):
            for key in self.spec.args:
                hint = OTHER_SERVERS_NAMES.get(normalize(key)) if isinstance(key, str) else None
                if hint:
                    raise OptionError(
                        f"Process '{self.name}': granian has no option `{key}`: {hint}."
                    )
        options, application = super().configured_options(table)
        if not any(item.option.key == "interface" for item in options):
            options = [*table.from_mapping({"interface": self.interface}, self.name), *options]
        return options, application

    def validate(self, argv: Sequence[str]) -> None:
        if not self.interfaces:
            raise OptionError(
                f"Process '{self.name}': {type(self).__name__} is what granian's backends "
                f"share; use django_prodserver.backends.granian.GranianASGIServer or "
                f"django_prodserver.backends.granian.GranianWSGIServer."
            )
        context = parse(argv, self.name)
        interface = value_of(context, "interface")
        if interface not in self.interfaces:
            raise OptionError(
                f"Process '{self.name}': {type(self).__name__} serves the project's "
                f"{self.interface.upper()} application, but `interface` is '{interface}'. "
                f"Leave `interface` out (the backend sets `--interface={self.interface}`), or use "
                f"{self.other_backend()} for the {self.other_interface()} application."
            )
        self.check_interface_options(context)
        check_extras(context, self.name)

    def check_interface_options(self, context: Any) -> None:
        """Options that granian's interface for this backend cannot honour."""

    def legacy_name(self, key: str) -> str | None:
        """The name from LEGACY_NAMES that ARGS gives granian's `key`, if it uses one."""
        if not isinstance(self.spec.args, Mapping):
            return None
        legacy = {normalize(name): own for name, own in LEGACY_NAMES.items()}
        return next(
            (
                name
                for name in self.spec.args
                if isinstance(name, str) and legacy.get(normalize(name)) == key
            ),
            None,
        )

    def other_backend(self) -> str:
        other = "GranianWSGIServer" if self.interface == "asgi" else "GranianASGIServer"
        return f"django_prodserver.backends.granian.{other}"

    def other_interface(self) -> str:
        return "WSGI" if self.interface == "asgi" else "ASGI"


class GranianASGIServer(GranianServer):
    """granian serving the project's ASGI application (`--interface=asgi`)."""

    interface = "asgi"
    # `asginl` is ASGI without the lifespan protocol (Django does not implement it).
    interfaces = ("asgi", "asginl")

    def check_interface_options(self, context: Any) -> None:
        threads = context.params.get("blocking_threads")
        if threads is not None and threads > 1:
            legacy = self.legacy_name("blocking_threads")
            named = f"`{legacy}` (granian's `blocking-threads`)" if legacy else "`blocking-threads`"
            raise OptionError(
                f"Process '{self.name}': {named} is "
                f"{threads}{from_environment(context, 'blocking_threads')}, but granian's "
                f"ASGI interface runs the application on one blocking thread per worker "
                f"and refuses any other number. Remove `{legacy or 'blocking-threads'}` "
                f"(or set it to 1) "
                f"and raise `workers` for more parallelism; or serve the WSGI application "
                f"with {self.other_backend()}, where `blocking-threads` sizes each worker's "
                f"thread pool."
            )


class GranianWSGIServer(GranianServer):
    """granian serving the project's WSGI application (`--interface=wsgi`)."""

    interface = "wsgi"
    interfaces = ("wsgi",)

    def check_interface_options(self, context: Any) -> None:
        from click.core import ParameterSource

        source = context.get_parameter_source("websockets")
        if context.params.get("websockets") and source is not ParameterSource.DEFAULT:
            raise OptionError(
                f"Process '{self.name}': `ws` is on{from_environment(context, 'websockets')}, "
                f"but WSGI has no WebSockets and granian would ignore it. Remove `ws`, or "
                f"serve the ASGI application with {self.other_backend()}."
            )
