"""runserver's `addrport` (a port, or host:port), read from ARGS and checked as runserver does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.management.commands.runserver import naiveip_re

from django_prodserver.bounds import LARGEST_PORT, shown, whole_number
from django_prodserver.errors import OptionError
from django_prodserver.options.table import normalize

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def split_addrport(args: Mapping[str, Any], process: str) -> tuple[dict[str, Any], list[str]]:
    """ARGS without `addrport`, and `addrport` as the positional argument it is."""
    rest = {key: value for key, value in args.items() if normalize(str(key)) != "addrport"}
    given = [value for key, value in args.items() if normalize(str(key)) == "addrport"]
    if not given or given[0] is None:
        return rest, []
    value = given[0]
    port_number = (
        isinstance(value, int) and not isinstance(value, bool) and 0 < value <= LARGEST_PORT
    )
    if not (isinstance(value, str) or port_number):
        raise OptionError(
            f"Process '{process}': `addrport` is a port or host:port such as "
            f"'127.0.0.1:8000', got {shown(value)}."
        )
    return rest, [str(value)]


def parse_addrport(text: str | None, process: str) -> tuple[str, int]:
    """The host and port `addrport` names; an OptionError for what runserver would refuse."""
    if not text:
        return DEFAULT_HOST, DEFAULT_PORT
    match = re.match(naiveip_re, text)
    # ASCII digits only: runserver's pattern takes any Unicode digit (`\d`).
    port = whole_number(match["port"], LARGEST_PORT) if match else None
    if match is None or not port:
        raise OptionError(
            f"Process '{process}': `addrport` is a port or host:port such as "
            f"'127.0.0.1:8000' (a port from 1 to 65535), got '{text}'."
        )
    host = match["addr"] or DEFAULT_HOST
    if match["ipv6"]:
        host = host[1:-1]
    return host, port
