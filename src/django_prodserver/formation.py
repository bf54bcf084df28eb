"""A formation: `prodserver web=2 worker=3` runs that many copies of each process.

Each copy is a child of the runner of its own, named `web.1`, `web.2` in the output. The
copies of a web process that takes the runner's socket all serve on that one socket:
this is how a server of one process (waitress, daphne) uses more cores on one port.
"""

from __future__ import annotations

from collections.abc import Sequence

from django_prodserver.errors import ProdserverError

# More copies of one process than this is a typing mistake more likely than a plan.
MOST_COPIES = 64


def read_formation(words: Sequence[str]) -> tuple[list[str], dict[str, int]]:
    """The names in `words` (`web`, `web=2`), and the copies asked for each (only those
    with `=N`); an error for a count that is not a whole number from 1 to MOST_COPIES."""
    names: list[str] = []
    copies: dict[str, int] = {}
    for word in words:
        name, equals, count = word.partition("=")
        if not equals:
            names.append(word)
            continue
        number = int(count) if count.isascii() and count.isdigit() else None
        if not name or number is None or not 1 <= number <= MOST_COPIES:
            raise ProdserverError(
                f"{word!r}: a formation is NAME=N, N a whole number of copies from 1 to "
                f"{MOST_COPIES} (as in `prodserver web=2 worker=3`)."
            )
        if name in copies and copies[name] != number:
            raise ProdserverError(
                f"{name!r} is given two counts ({name}={copies[name]} and {word}): give one."
            )
        names.append(name)
        copies[name] = number
    return names, copies
