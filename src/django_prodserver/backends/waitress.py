"""waitress: options from waitress's own `Adjustments`, served inside this process.

The plan is the `waitress-serve` line a person could type. It is not exec'd: the
runner returns 0 after printing its help for a bad option, and waitress has no
graceful stop of its own. `serving.waitress` serves the same argv here instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from django_prodserver.backends.base import Address, Plan, planned_address
from django_prodserver.backends.web_server import ServerBackend
from django_prodserver.errors import OptionError
from django_prodserver.liveness.http import warmup_request
from django_prodserver.options import OptionTable, OptionValue, normalize
from django_prodserver.options.waitress import adjustments_class, option_table, read_command_line

# How long the requests in flight may take to finish once a stop signal arrived: well
# within the 30 s of STOP_TIMEOUT's default and of Kubernetes before SIGKILL, so that the
# drain, not a SIGKILL, ends a request that outlasts it; and Docker's default 10 s.
GRACEFUL_TIMEOUT = 10.0

# The adjustments that hold a list but, unlike `listen`, are read once: waitress-serve
# keeps the last `--trusted-proxy-headers`. A list in ARGS becomes one spaced value.
SPACED_LISTS = ("trusted_proxy_headers",)
# Names that other servers' users bring along, and what waitress calls the same thing.
OTHER_SERVERS_NAMES = {
    "workers": "waitress runs one process and serves requests from a pool of `threads`",
    "bind": "waitress's name for an address is `listen` (host:port), or `unix_socket`",
}


class WaitressServer(ServerBackend):
    """A pure-Python WSGI server with a pool of threads (`waitress-serve`); runs on Windows."""

    server = "waitress-serve"
    module = "waitress"
    extra = "waitress"
    takes_sockets = True
    address_options = ("host", "port", "listen", "unix_socket")
    # waitress's own default host is 0.0.0.0 (IPv4, every interface).
    port_defaults = {"listen": "0.0.0.0:{port}"}  # noqa: RUF012 - read only
    # One process, `threads` threads: $WEB_CONCURRENCY counts processes, so it does not apply.
    workers_option = None
    # The unix socket's mode is set by whoever binds it, systemd (SocketMode=) or the runner.
    replaced_by_sockets = ("unix_socket_perms",)

    def option_table(self) -> OptionTable:
        return option_table()

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        args = self.spec.args
        if not isinstance(args, Mapping):
            return table.from_argv(args, self.name)
        for key in args:
            hint = OTHER_SERVERS_NAMES.get(normalize(key)) if isinstance(key, str) else None
            if hint:
                raise OptionError(f"Process '{self.name}': waitress has no option `{key}`: {hint}.")
        spaced = {normalize(name) for name in SPACED_LISTS}
        joined = {
            key: " ".join(map(str, value))
            if isinstance(key, str)
            and normalize(key) in spaced
            and isinstance(value, (list, tuple))
            else value
            for key, value in args.items()
        }
        return table.from_mapping(joined, self.name), []

    def validate(self, argv: Sequence[str]) -> None:
        read_command_line(argv, self.name)

    def socket_unit_settings(self, plan: Plan) -> Mapping[str, str]:
        defaults = adjustments_class()
        backlog = plan.value("backlog") or str(defaults.backlog)
        perms = plan.value("unix_socket_perms") or f"{defaults.unix_socket_perms:o}"
        return {"Backlog": backlog, "SocketMode": f"{int(perms, 8):04o}"}

    def socket_options(self, fds: Sequence[int]) -> Mapping[str, object]:
        return {}  # waitress-serve has no option for sockets; serve() gives them to waitress

    def serve_on_sockets(self, plan: Plan, fds: Sequence[int]) -> tuple[Plan, list[str]]:
        on_sockets, replaced = super().serve_on_sockets(plan, fds)
        listed = ", ".join(map(str, fds))
        note = f"served in this process on the inherited fd {listed} (waitress's `sockets`)"
        return replace(on_sockets, note=note), replaced

    def run(self, plan: Plan) -> int | None:
        from django_prodserver.serving.waitress import serve

        return serve(plan, graceful_timeout=GRACEFUL_TIMEOUT, warmup=warmup_request(self, plan))

    def warms_up(self, plan: Plan) -> bool:
        return True

    def graceful_timeout(self, plan: Plan) -> float | None:
        return GRACEFUL_TIMEOUT  # the drain that prodserver adds to waitress

    def listen_address(self, plan: Plan) -> Address | None:
        defaults = adjustments_class()
        listen = plan.values("listen")
        if listen and not plan.value("unix_socket"):
            return Address.parse(listen[0].split()[0], default_port=defaults.port)
        return planned_address(
            plan, socket="unix_socket", default_host=defaults.host, default_port=defaults.port
        )
