"""Option tables for servers whose command line is an argparse parser (daphne, hypercorn)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from django_prodserver.options.table import Option, OptionTable


def argparse_option_table(
    server: str, parser: argparse.ArgumentParser, keys: Mapping[str, str] | None = None
) -> OptionTable:
    """Every option of an argparse parser; `keys` names an option by its `dest`.

    An option without a name in `keys` is called by its long flag (`--unix-socket` is
    `unix_socket`). Actions that take no argument (store_true, store_const) are flags;
    store_false is a flag under its own name, and a flag that switches its `dest` off;
    `--x`/`--no-x` (BooleanOptionalAction) is one switch; append actions repeat.
    """
    options = []
    for action in parser._actions:
        if not action.option_strings or isinstance(
            action, (argparse._HelpAction, argparse._VersionAction)
        ):
            continue
        flags = tuple(action.option_strings)
        long_flag = next((flag for flag in flags if flag.startswith("--")), flags[0])
        key = (keys or {}).get(action.dest) or long_flag.lstrip("-").replace("-", "_")
        if isinstance(action, argparse.BooleanOptionalAction):
            # `--reload` / `--no-reload`: one switch, on and off.
            negative = tuple(flag for flag in flags if flag.startswith("--no-"))
            positive = tuple(flag for flag in flags if flag not in negative)
            options.append(Option(key, positive, negative, takes_value=False))
        elif action.nargs == 0 and action.const is False:
            # `--no-periodic` storing False into `periodic`: named by its flag, True
            # switches the flag on; named by its dest, False does.
            options.append(Option(key, flags=flags, takes_value=False))
            if action.dest != key and not (keys or {}).get(action.dest):
                options.append(Option(action.dest, negative_flags=flags, takes_value=False))
        elif action.nargs == 0:
            options.append(Option(key, flags=flags, takes_value=False))
        else:
            options.append(
                Option(
                    key,
                    flags=flags,
                    repeatable=isinstance(action, argparse._AppendAction),
                    # A bare `--max-tasks` whose const is None stores None: never what a
                    # value in ARGS means, so such an option always takes its value.
                    optional_value=action.nargs == "?" and action.const is not None,
                )
            )
    return OptionTable(server, options)
