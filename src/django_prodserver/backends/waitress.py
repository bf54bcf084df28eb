"""waitress: options from waitress's own `Adjustments`, served inside this process.

The plan is the `waitress-serve` line a person could type. It is not exec'd: the
runner returns 0 after printing its help for a bad option, and waitress has no
graceful stop of its own. `waitress_runtime` serves the same argv here instead.
"""

from __future__ import annotations

import getopt
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django_prodserver.backends.base import Address, Plan
from django_prodserver.backends.command import ServerBackend
from django_prodserver.errors import OptionError
from django_prodserver.options import Option, OptionTable, OptionValue, normalize

# Adjustments that `waitress-serve` cannot take: `sockets` holds socket objects.
NOT_ON_THE_COMMAND_LINE = frozenset({"sockets"})
# Options of the runner itself, not of the server: `--call` calls the named object to
# get the application; `--help` only prints the help.
RUNNER_FLAGS = ("call",)
# The adjustments that hold a list but, unlike `listen`, are read once: waitress-serve
# keeps the last `--trusted-proxy-headers`. A list in ARGS becomes one spaced value.
SPACED_LISTS = ("trusted_proxy_headers",)
# Names that other servers' users bring along, and what waitress calls the same thing.
OTHER_SERVERS_NAMES = {
    "workers": "waitress runs one process and serves requests from a pool of `threads`",
    "bind": "waitress's name for an address is `listen` (host:port), or `unix_socket`",
}


def adjustments_class() -> Any:
    from waitress.adjustments import Adjustments

    return Adjustments


@cache
def option_table() -> OptionTable:
    """Every option of `waitress-serve`: the adjustments, as its getopt parser reads them."""
    from waitress.adjustments import asbool

    options = []
    for name, convert in adjustments_class()._params:
        if name in NOT_ON_THE_COMMAND_LINE:
            continue
        flag = "--" + name.replace("_", "-")
        if convert is asbool:
            no_flag = "--no-" + name.replace("_", "-")
            options.append(
                Option(name, flags=(flag,), negative_flags=(no_flag,), takes_value=False)
            )
        else:
            options.append(Option(name, flags=(flag,), repeatable=name == "listen"))
    options.extend(Option(name, flags=(f"--{name}",), takes_value=False) for name in RUNNER_FLAGS)
    return OptionTable("waitress", options)


@dataclass(frozen=True)
class WaitressCommand:
    """A `waitress-serve` command line, read by waitress's own parser."""

    adjustments: dict[str, Any]  # the keyword arguments of `waitress.create_server`
    application: str  # `module:attribute`
    call: bool  # `--call`: the attribute is a factory that returns the application


def read_command_line(argv: Sequence[str], process: str) -> WaitressCommand:
    """Parse and check `waitress-serve` options and application, as the runner would.

    Everything `create_server` would refuse is an OptionError here, before anything
    starts. The addresses are resolved (as waitress does) but nothing is bound.
    """
    adjustments = adjustments_class()
    try:
        parsed, positionals = adjustments.parse_args(list(argv))
    except getopt.GetoptError as error:
        raise OptionError(
            f"Process '{process}': waitress-serve rejects the options: {error}."
        ) from None
    if parsed.pop("help"):
        raise OptionError(f"Process '{process}': `--help` only prints waitress-serve's help.")
    call = bool(parsed.pop("call"))
    if len(positionals) != 1:
        shown = " ".join(positionals) or "none"
        raise OptionError(
            f"Process '{process}': waitress-serve serves one application "
            f"(module:attribute), got {shown}."
        )
    for name, value in parsed.items():
        try:
            converted = adjustments._param_map[name](value)
        except (TypeError, ValueError) as error:
            raise OptionError(
                f"Process '{process}': invalid value for waitress's `{name}` ({value}): {error}."
            ) from None
        if name == "threads" and converted < 1:
            raise OptionError(
                f"Process '{process}': waitress's `threads` must be at least 1, got {value}: "
                f"with no thread, waitress accepts connections and never answers."
            )
    with warnings.catch_warnings():
        # waitress warns about deprecated adjustments when it starts; not twice.
        warnings.simplefilter("ignore")
        try:
            adjustments(**parsed)
        except ValueError as error:
            raise OptionError(
                f"Process '{process}': waitress rejects the options{addresses(parsed)}: {error}"
            ) from None
    return WaitressCommand(parsed, positionals[0], call)


def addresses(parsed: Mapping[str, Any]) -> str:
    shown = [f"{name}={parsed[name]}" for name in ("host", "port", "unix_socket") if name in parsed]
    if "listen" in parsed:
        shown.append(f"listen={', '.join(parsed['listen'].split())}")
    return f" ({'; '.join(shown)})" if shown else ""


class WaitressServer(ServerBackend):
    """A pure-Python WSGI server with a pool of threads (`waitress-serve`); runs on Windows."""

    server = "waitress-serve"
    module = "waitress"
    extra = "waitress"
    address_options = ("host", "port", "listen", "unix_socket")
    # waitress's own default host is 0.0.0.0 (IPv4, every interface).
    port_defaults = {"listen": "0.0.0.0:{port}"}  # noqa: RUF012 - read only
    # One process, `threads` threads: $WEB_CONCURRENCY counts processes, so it does not apply.
    workers_option = None

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

    def run(self, plan: Plan) -> int | None:
        from django_prodserver.backends.waitress_runtime import serve

        return serve(plan)

    def graceful_timeout(self, plan: Plan) -> float | None:
        from django_prodserver.backends.waitress_runtime import GRACEFUL_TIMEOUT

        return GRACEFUL_TIMEOUT  # the drain that prodserver adds to waitress

    def listen_address(self, plan: Plan) -> Address | None:
        socket_path = plan.option_values("--unix-socket")
        if socket_path:
            return Address(path=socket_path[-1])
        defaults = adjustments_class()
        listen = plan.option_values("--listen")
        if listen:
            return Address.parse(listen[0].split()[0], default_port=defaults.port)
        host = plan.option_values("--host") or [defaults.host]
        port = plan.option_values("--port") or [str(defaults.port)]
        return Address(host=host[-1], port=int(port[-1]))
