"""A server's options as data, read from the server's own registry.

`table` holds the shape every server shares (`OptionTable`); `from_click` and
`from_argparse` build one from a click command or an argparse parser; `pipeline` turns
a process's ARGS and the options typed on the command line into validated options.
"""

from django_prodserver.options.table import (
    Option,
    OptionTable,
    OptionValue,
    describe,
    none_flags,
    normalize,
    override,
    parse_bool,
    render,
)

__all__ = [
    "Option",
    "OptionTable",
    "OptionValue",
    "describe",
    "none_flags",
    "normalize",
    "override",
    "parse_bool",
    "render",
]
