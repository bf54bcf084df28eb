"""A server's options as data: names, flags, and how ARGS values become an argv.

Each backend builds an `OptionTable` from its server's own registry (gunicorn's
`KNOWN_SETTINGS`, a click command's parameters, ...). The table then does the same
work for every server: find an option under any of its documented names, turn a
value from settings into command-line tokens, read an argv back into options, and
let options typed on the command line replace the configured ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from django_prodserver.bounds import LARGEST_OPTION_NUMBER, option_number, shown
from django_prodserver.errors import OptionError
from django_prodserver.masking import sensitive
from django_prodserver.suggestions import did_you_mean

TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})


@dataclass(frozen=True)
class Option:
    """One option of a server.

    `key` is the server's own name for it (gunicorn's setting name, a click
    parameter's name). A flag takes no value: `flags` switch it on,
    `negative_flags` switch it off (`--no-sendfile`, `--no-access-log`).
    """

    key: str
    flags: tuple[str, ...] = ()
    negative_flags: tuple[str, ...] = ()
    takes_value: bool = True
    repeatable: bool = False
    optional_value: bool = False

    @property
    def long_flag(self) -> str:
        spellings = self.flags or self.negative_flags
        return next((flag for flag in spellings if flag.startswith("--")), spellings[0])


@dataclass(frozen=True)
class OptionValue:
    """An option as configured: the tokens it adds to the command line, and its values.

    `values` are the texts given to an option that takes one (several for a repeated
    option); a flag has none: its tokens say whether it is switched on.

    `none_name` is the ARGS name of a flag switched on by `None` (django-prodserver 3.0
    turned `"preload": None` into a bare `--preload`). It travels with the plan's options,
    so that `manage.py check` can warn about it without reading ARGS again (see
    compat/none_flags.py).
    """

    option: Option
    tokens: tuple[str, ...]
    values: tuple[str, ...] = ()
    none_name: str | None = None

    @classmethod
    def given(cls, option: Option, values: Sequence[str]) -> OptionValue:
        """`--long-flag=value` for each value."""
        return cls(option, tuple(f"{option.long_flag}={value}" for value in values), tuple(values))


def normalize(name: str) -> str:
    """`--Worker_Class` and `worker-class` are the same name."""
    return name.strip().lstrip("-").lower().replace("_", "-")


def parse_bool(value: object) -> bool | None:
    """True, False, or None when `value` is not a boolean in any usual spelling."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    return None


def quoted_value(value: object, name: str = "") -> str:
    """The value as an error message quotes it; not at all for an option that holds a secret."""
    if sensitive(name):
        return "a value (not shown: the option holds a secret)"
    return shown(value) if not isinstance(value, str) else f"'{value}'"


class OptionTable:
    """Every option of one server, findable under each of its names.

    `extra_names` maps names that are not the server's own to the key of the option they
    mean (granian's `address` for `host`, as another implementation spelt it). They are
    found like any other name, but never shadow one of the server's own.
    """

    def __init__(
        self, server: str, options: Iterable[Option], extra_names: Mapping[str, str] | None = None
    ) -> None:
        self.server = server
        self.options = tuple(options)
        # normalized name -> (option, named by a negative flag)
        self._names: dict[str, tuple[Option, bool]] = {}
        for option in self.options:
            self._names.setdefault(normalize(option.key), (option, False))
        for option in self.options:
            for flag in option.flags:
                self._names.setdefault(normalize(flag), (option, False))
            for flag in option.negative_flags:
                self._names.setdefault(normalize(flag), (option, True))
        by_key = {option.key: option for option in self.options}
        for name, key in (extra_names or {}).items():
            if key not in by_key:
                raise ValueError(f"{server} has no option `{key}` for the extra name `{name}`")
            self._names.setdefault(normalize(name), (by_key[key], False))
        self._flags: dict[str, tuple[Option, bool]] = {}
        for option in self.options:
            self._flags.update(dict.fromkeys(option.flags, (option, False)))
            self._flags.update(dict.fromkeys(option.negative_flags, (option, True)))

    def names(self) -> list[str]:
        return sorted(self._names)

    def find(self, name: str, process: str) -> tuple[Option, bool]:
        """The option called `name` and whether the name switches it off."""
        found = self._flags.get(name) or self._names.get(normalize(name))
        if found is None:
            hint = did_you_mean(normalize(name), self._names)
            raise OptionError(
                f"Process '{process}': {self.server} has no option `{name}`{hint}. "
                f"The names are those of {self.server}'s own documentation."
            )
        return found

    # Settings -> options

    def from_mapping(self, args: Mapping[str, object], process: str) -> list[OptionValue]:
        """Options from a dict of ARGS, in the order they were written.

        None leaves an option that takes a value unset (the server's default applies), and
        switches a flag on, as django-prodserver 3.0 did; such a flag keeps the name it was
        given in `OptionValue.none_name`, for the checks' warning.
        """
        configured: list[OptionValue] = []
        seen: dict[str, str] = {}
        for name, value in args.items():
            if not isinstance(name, str):
                raise OptionError(
                    f"Process '{process}': ARGS keys must be option names (strings), got {name!r}."
                )
            option, negated = self.find(name, process)
            if option.key in seen:
                raise OptionError(
                    f"Process '{process}': ARGS sets {self.server}'s `{option.key}` twice, "
                    f"as `{seen[option.key]}` and as `{name}`. Keep one."
                )
            seen[option.key] = name
            if value is None and option.takes_value:
                continue
            if value is None:
                switched = self.switch(option, not negated)
                configured.append(replace(switched, none_name=name))
                continue
            configured.append(self._value(option, negated, name, value, process))
        return configured

    def _value(
        self, option: Option, negated: bool, name: str, value: object, process: str
    ) -> OptionValue:
        if not option.takes_value:
            switch = parse_bool(value)
            if switch is None:
                raise OptionError(
                    f"Process '{process}': `{name}` is a flag of {self.server}; "
                    f"expected True or False, got {quoted_value(value, name)}."
                )
            return self.switch(option, switch != negated)
        if option.optional_value and parse_bool(value) is True:
            return OptionValue(option, (option.long_flag,))
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if len(items) != 1 and not option.repeatable:
            raise OptionError(
                f"Process '{process}': `{name}` takes one value, got {quoted_value(value, name)}."
            )
        return OptionValue.given(option, [self._text(name, item, process) for item in items])

    def _text(self, name: str, value: object, process: str) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise OptionError(
                f"Process '{process}': `{name}` takes a value (a string or a number), "
                f"got {quoted_value(value, name)}."
            )
        text = option_number(value) if not isinstance(value, str) else value
        if text is None:
            raise OptionError(
                f"Process '{process}': `{name}` is a number larger than any option of "
                f"{self.server} takes (at most {LARGEST_OPTION_NUMBER}, a 64-bit integer), "
                f"got {quoted_value(value, name)}."
            )
        return text

    @staticmethod
    def switch(option: Option, on: bool) -> OptionValue:
        spellings = option.flags if on else option.negative_flags
        if not spellings:
            return OptionValue(option, ())
        long_flag = next((flag for flag in spellings if flag.startswith("--")), spellings[0])
        return OptionValue(option, (long_flag,))

    # Command line -> options

    def from_argv(self, argv: Sequence[str], process: str) -> tuple[list[OptionValue], list[str]]:
        """Options and positional arguments from an argv, as the server would read it."""
        configured: list[OptionValue] = []
        positionals: list[str] = []
        tokens = list(argv)
        while tokens:
            token = tokens.pop(0)
            if token == "--":
                positionals.extend(tokens)
                break
            if not token.startswith("-") or token == "-" or _is_number(token):
                positionals.append(token)
                continue
            name, has_value, value = self._split(token)
            option, negated = self.find(name, process)
            if not option.takes_value:
                configured.append(self._value(option, negated, name, value or "true", process))
            elif has_value:
                configured.append(OptionValue.given(option, [value]))
            elif option.optional_value and (not tokens or tokens[0].startswith("-")):
                configured.append(OptionValue(option, (option.long_flag,)))
            elif tokens:
                configured.append(OptionValue.given(option, [tokens.pop(0)]))
            else:
                raise OptionError(
                    f"Process '{process}': option `{name}` of {self.server} needs a value."
                )
        return _merge_repeats(configured), positionals

    def _split(self, token: str) -> tuple[str, bool, str]:
        if token.startswith("--"):
            name, equals, value = token.partition("=")
            return name, bool(equals), value
        # A short option: `-w 4`, `-w4` or `-w=4`.
        name, rest = token[:2], token[2:]
        if rest.startswith("="):
            rest = rest[1:]
        return name, bool(rest), rest


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _merge_repeats(configured: list[OptionValue]) -> list[OptionValue]:
    """`--bind=a --bind=b` is one repeatable option with two values."""
    merged: list[OptionValue] = []
    for item in configured:
        earlier = next((m for m in merged if m.option.key == item.option.key), None)
        if earlier is not None and item.option.repeatable:
            merged[merged.index(earlier)] = OptionValue(
                item.option, earlier.tokens + item.tokens, earlier.values + item.values
            )
        elif earlier is not None:
            merged[merged.index(earlier)] = item  # Later wins, as in argparse and click.
        else:
            merged.append(item)
    return merged


def override(
    configured: Sequence[OptionValue], overrides: Sequence[OptionValue]
) -> list[OptionValue]:
    """Options typed on the command line replace the configured ones, in place."""
    result = list(configured)
    for item in overrides:
        keys = [existing.option.key for existing in result]
        if item.option.key in keys:
            result[keys.index(item.option.key)] = item
        else:
            result.append(item)
    return result


def render(configured: Sequence[OptionValue]) -> list[str]:
    return [token for item in configured for token in item.tokens]
