"""Option tables for servers whose command line is a click command (uvicorn, granian)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django_prodserver.errors import OptionError
from django_prodserver.options.table import Option, OptionTable


def click_option_table(server: str, command: Any) -> OptionTable:
    """Every option of a click command, `--x/--no-x` flags included."""
    import click

    options = []
    for parameter in command.params:
        if not isinstance(parameter, click.Option) or parameter.name in {"version", "help"}:
            continue
        if parameter.is_flag:
            options.append(
                Option(
                    str(parameter.name),
                    flags=tuple(parameter.opts),
                    negative_flags=tuple(parameter.secondary_opts),
                    takes_value=False,
                )
            )
        else:
            options.append(
                Option(
                    str(parameter.name), flags=tuple(parameter.opts), repeatable=parameter.multiple
                )
            )
    return OptionTable(server, options)


def check_with_click(command: Any, argv: Sequence[str], server: str, process: str) -> None:
    """Parse and validate `argv` with the server's own click command, without running it."""
    import click

    try:
        command.make_context(server, list(argv))
    except click.ClickException as error:
        raise OptionError(
            f"Process '{process}': {server} rejects the options: {error.format_message()}"
        ) from None


def click_default(command: Any, name: str) -> Any:
    """The default of the click command's parameter `name`."""
    return next(parameter.default for parameter in command.params if parameter.name == name)
