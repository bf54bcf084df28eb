"""Did-you-mean hints for names a user typed."""

import difflib
from collections.abc import Iterable
from types import ModuleType


def closest(name: str, candidates: Iterable[str], limit: int = 3) -> list[str]:
    return difflib.get_close_matches(name, sorted(set(candidates)), n=limit, cutoff=0.6)


def did_you_mean(name: str, candidates: Iterable[str], quote: str = "`") -> str:
    """` (did you mean `a` or `b`?)`, or an empty string when nothing is close."""
    matches = closest(name, candidates)
    if not matches:
        return ""
    quoted = [f"{quote}{match}{quote}" for match in matches]
    choices = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f" (did you mean {choices}?)"


def classes_of(module: ModuleType) -> list[str]:
    """The classes a module defines or imports: what a dotted path to a class could mean."""
    return [
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and not name.startswith("_")
    ]
