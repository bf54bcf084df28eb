"""waitress's options: its `Adjustments`, as `waitress-serve`'s own getopt parser reads them.

Both the backend (to plan and validate) and the serving code (to build the server from
the planned line) read a `waitress-serve` line here, so they cannot disagree.
"""

from __future__ import annotations

import getopt
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django_prodserver.errors import OptionError
from django_prodserver.options.table import Option, OptionTable

# Adjustments that `waitress-serve` cannot take: `sockets` holds socket objects.
NOT_ON_THE_COMMAND_LINE = frozenset({"sockets"})
# Options of the runner itself, not of the server: `--call` calls the named object to
# get the application; `--help` only prints the help.
RUNNER_FLAGS = ("call",)


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
