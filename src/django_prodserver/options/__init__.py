"""A server's options as data, read from the server's own registry.

`table` holds the shape every server shares (`OptionTable`: an option found under any of
its names, ARGS and typed words turned into `OptionValue`s, typed ones replacing
configured ones); `from_click`, `from_argparse` and `waitress` build a table from a click
command, an argparse parser or waitress's `Adjustments`; `addrport` reads runserver's
address.
"""

from django_prodserver.options.table import (
    Option,
    OptionTable,
    OptionValue,
    normalize,
    override,
    parse_bool,
    quoted_value,
    render,
)

__all__ = [
    "Option",
    "OptionTable",
    "OptionValue",
    "normalize",
    "override",
    "parse_bool",
    "quoted_value",
    "render",
]
