"""django-prodserver 3.0 read `None` in a dict of ARGS as "switch this flag on".

`"preload": None` became a bare `--preload` there, and still does here (the option table
keeps the name it was written under, `OptionValue.none_name`); everywhere else in ARGS,
None leaves an option unset. So the checks warn where None switches a flag on.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.checks import CheckMessage, Warning

from django_prodserver.backends.base import Plan
from django_prodserver.options import OptionValue


def none_flags(configured: Sequence[OptionValue]) -> list[str]:
    """The ARGS names of the flags that `None` switched on, as written."""
    return [item.none_name for item in configured if item.none_name is not None]


def flags_set_by_none(plan: Plan) -> list[CheckMessage]:
    """`"preload": None` switches the flag on, as django-prodserver 3.0 read it: say so.

    A warning, not an error: the server starts as that implementation started it, but
    None reads as "unset" everywhere else in ARGS.
    """
    return [
        Warning(
            f"Process '{plan.process}': `{name}` is None, which switches the flag on "
            f"(as django-prodserver 3.0 read it); write True.",
            hint=f'Write "{name}": True to keep the flag on, or remove `{name}` to leave it off.',
            id="prodserver.W003",
        )
        for name in none_flags(plan.options)
    ]
