"""The shared shape of a server backend: options in, one command line out.

A server module subclasses `ServerBackend` and says which package runs the server,
how to read its option registry, and how to validate a command line with the
server's own parser. The plan is then built the same way for every server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import ClassVar

from django_prodserver.applications import asgi_application, wsgi_application
from django_prodserver.backends.base import Backend, Plan
from django_prodserver.errors import OptionError
from django_prodserver.options import OptionTable, OptionValue, override, render
from django_prodserver.packages import require


class ServerBackend(Backend):
    """A web server started by its own command (`python -m MODULE`), keeping this PID."""

    kind = "web"
    # `python -m module` runs the server; `extra` is the pip extra that installs it.
    module: ClassVar[str]
    extra: ClassVar[str]
    interface: ClassVar[str] = "wsgi"
    # Where to listen when the configuration says nowhere and $PORT is set (the
    # convention of Heroku, Render, Fly): option -> value, with {port} filled in.
    address_options: ClassVar[tuple[str, ...]] = ()
    port_defaults: ClassVar[Mapping[str, str]] = {}
    # The option that sets the number of worker processes, taken from $WEB_CONCURRENCY.
    workers_option: ClassVar[str | None] = None
    # A server that sets `takes_sockets` says how in `socket_options()`.
    # Options that inherited sockets replace besides `address_options` (another place to
    # listen, a way of binding that would ignore the inherited sockets).
    replaced_by_sockets: ClassVar[tuple[str, ...]] = ()

    def option_table(self) -> OptionTable:
        raise NotImplementedError

    def validate(self, argv: Sequence[str]) -> None:
        """Check the command line with the server's own parser; raise OptionError."""

    def address_elsewhere(self, options: Sequence[OptionValue]) -> bool:
        """Whether the server may read its address from outside its options (a config
        file): the runner then gives it no PORT, whose address would override it."""
        return False

    def served_interface(self, plan: Plan) -> str:
        """What the planned server serves, "wsgi" or "asgi": devserver picks a server by it."""
        return self.interface

    def application(self, options: Sequence[OptionValue]) -> str:
        if self.interface == "asgi":
            return asgi_application(self.name)
        return wsgi_application(self.name)

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        require(self.module, self.extra, self.name, what=self.server)
        if self.spec.app:
            raise OptionError(
                f"Process '{self.name}': APP is for worker backends such as Celery's; "
                f"{self.server} serves the project's {self.interface.upper()} application."
            )
        table = self.option_table()
        options, application = self.resolved_options(table, overrides)
        options = override(self.environment_defaults(table, options, env), options)
        application = application or [self.application(options)]
        argv = (self.server, *render(options), *application)
        self.validate(argv[1:])
        return Plan(self.name, argv, dict(env or {}), module=self.module, options=tuple(options))

    def socket_options(self, fds: Sequence[int]) -> Mapping[str, object]:
        """The server's own options that make it serve on the inherited sockets `fds`."""
        raise NotImplementedError

    def serve_on_sockets(self, plan: Plan, fds: Sequence[int]) -> tuple[Plan, list[str]]:
        table = self.option_table()
        names = (*self.address_options, *self.replaced_by_sockets)
        replaced = {table.find(name, self.name)[0].key for name in names}
        kept = [item for item in plan.options if item.option.key not in replaced]
        dropped = [
            f"{item.option.key}={','.join(item.values)}" if item.values else item.option.key
            for item in plan.options
            if item.option.key in replaced
        ]
        options = [*kept, *table.from_mapping(self.socket_options(fds), self.name)]
        # The plan's line is the server, its options, then the application (plan() above).
        application = plan.argv[1 + len(render(plan.options)) :]
        argv = (plan.argv[0], *render(options), *application)
        self.validate(argv[1:])
        new_plan = replace(plan, argv=argv, options=tuple(options), inherited_fds=tuple(fds))
        return new_plan, dropped

    def environment_defaults(
        self,
        table: OptionTable,
        options: Sequence[OptionValue],
        env: Mapping[str, str] | None = None,
    ) -> list[OptionValue]:
        """Options from $PORT and $WEB_CONCURRENCY that the configuration leaves unset.

        PORT in the plan's `env` (the port the runner gives this process) comes first.
        """
        configured = {item.option.key for item in options}
        defaults: dict[str, object] = {}
        port = (env or {}).get("PORT") or os.environ.get("PORT")
        addresses = {table.find(name, self.name)[0].key for name in self.address_options}
        if port and not configured & addresses:
            defaults.update(
                {name: value.format(port=port) for name, value in self.port_defaults.items()}
            )
        concurrency = os.environ.get("WEB_CONCURRENCY")
        workers = self.workers_option
        if concurrency and workers and table.find(workers, self.name)[0].key not in configured:
            defaults[workers] = concurrency
        return table.from_mapping(defaults, self.name)
