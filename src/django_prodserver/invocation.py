"""One `prodserver` command, worked out once from what was typed: an `Invocation`.

`Invocation.typed()` reads the options Django parsed and the words typed after the names
(`split_server_args()`), once: the mode (a start, `--list`, `--probe`, `--export`,
`--release`), the names, the server's options, the export's flags, Django's own options.
What each mode takes of the rest is data (MODE_RULES): a part of the command line a mode
does not take is an error that says what to leave out, never silently dropped. The mode's
function (modes.py) takes it from there; nothing below it reads Django's options dict.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django_prodserver.errors import ProdserverError
from django_prodserver.exports.flags import FORMAT_NAMES, ExportRequest, export_flags_given
from django_prodserver.formation import read_formation

# prodserver's own options that, typed after a process's name, are the server's: they were
# before prodserver had them.
SERVERS_AFTER_A_NAME = frozenset({"--reload"})
# Django's own flags that a child of the runner is given as the runner was.
PASSED_FLAGS = ("traceback", "no_color", "force_color")


@dataclass(frozen=True)
class DjangoOptions:
    """The options every Django command takes, as this command was given them."""

    settings: str | None = None
    pythonpath: str | None = None
    verbosity: int = 1
    traceback: bool = False
    no_color: bool = False
    force_color: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DjangoOptions:
        return cls(
            settings=options.get("settings") or None,
            pythonpath=options.get("pythonpath") or None,
            verbosity=int(options.get("verbosity", 1)),
            traceback=bool(options.get("traceback")),
            no_color=bool(options.get("no_color")),
            force_color=bool(options.get("force_color")),
        )

    def line_environment(self) -> dict[str, str]:
        """What a shell needs set to run a planned line as this command runs it."""
        env = {}
        if self.settings:
            env["DJANGO_SETTINGS_MODULE"] = self.settings
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(
                path for path in (self.pythonpath, os.environ.get("PYTHONPATH")) if path
            )
        return env

    def settings_arguments(self) -> list[str]:
        """`--settings=...`, `--pythonpath=...`: for a `manage.py` started elsewhere."""
        return [
            f"--{name}={value}"
            for name, value in (("settings", self.settings), ("pythonpath", self.pythonpath))
            if value
        ]

    def arguments(self) -> list[str]:
        """This command's Django options, for another `manage.py` command."""
        argv = self.settings_arguments()
        if self.verbosity != 1:
            argv.append(f"--verbosity={self.verbosity}")
        argv.extend("--" + flag.replace("_", "-") for flag in PASSED_FLAGS if getattr(self, flag))
        return argv


# The parts of a command line besides its mode and Django's own options.
NAMES = "names"
ALL = "--all"
OVERRIDES = "options typed after the names"
DRY_RUN = "--dry-run"
EXPORT_FLAGS = "the export's flags"
ENV_FILES = "--env-file"
LOG_FORMAT = "--log-format"


@dataclass(frozen=True)
class ModeRule:
    """What a mode of `prodserver` takes, and what it says of a part it does not take
    (`{given}`: the words to leave out)."""

    flag: str  # how the mode is typed; "" for a start
    takes: frozenset[str]
    refusal: str


MODE_RULES = {
    "list": ModeRule(
        "--list",
        frozenset({NAMES, ALL}),
        "--list shows the processes as configured; leave out {given}.",
    ),
    "probe": ModeRule(
        "--probe",
        frozenset(),
        "--probe asks one process, named as --probe NAME; leave out {given}.",
    ),
    "export": ModeRule(
        "--export",
        frozenset({NAMES, ALL, EXPORT_FLAGS}),
        "--export writes the processes as configured; leave out {given}.",
    ),
    "release": ModeRule(
        "--release",
        frozenset({NAMES, DRY_RUN, ENV_FILES}),
        "--release runs the release steps as configured: it takes their names (default: "
        "every one), not --all nor options typed after them.",
    ),
    "reload": ModeRule(
        "--reload",
        frozenset(),
        "--reload asks the running runners of this project to reload every process; "
        "leave out {given}.",
    ),
    "start": ModeRule("", frozenset({NAMES, ALL, OVERRIDES, DRY_RUN, ENV_FILES, LOG_FORMAT}), ""),
}
# Said of the export's flags by every mode but --export, whatever else it refuses.
EXPORT_FLAGS_REFUSAL = (
    "{given}: only for --export FORMAT (one of {formats}); a process that starts takes no "
    "such option."
)
# The options that name a mode and take a value: a blank value is an error, not the mode
# left out (`--export ""` once started the server).
MODE_VALUES = {
    "export": ("--export", f"a format, one of {', '.join(FORMAT_NAMES)}"),
    "probe": ("--probe", "the name of the process to ask"),
}


@dataclass(frozen=True)
class Invocation:
    """What one `prodserver` command was asked to do."""

    mode: str
    names: tuple[str, ...] = ()
    # A formation's copies (`web=2`): NAME -> count, for the names given with one.
    copies: Mapping[str, int] = field(default_factory=dict)
    every: bool = False  # --all
    dry_run: bool = False
    skip_checks: bool = False
    # The process `--probe NAME` asks; the format and flags of `--export`.
    probe: str | None = None
    export: ExportRequest | None = None
    # The server options typed after the name: they replace the configured ones.
    overrides: tuple[str, ...] = ()
    django: DjangoOptions = field(default_factory=DjangoOptions)
    # The kind of process this command starts: any (`prodserver`), "web" (`server`) or
    # "worker" (`worker`), as django-prodserver 3.0 named them.
    kind: str | None = None
    # --env-file, in the order given (env_files.py); --log-format (runner/log_format.py),
    # None when not given; --port, the base of the web processes' ports run together.
    env_files: tuple[str, ...] = ()
    log_format: str | None = None
    port: int | None = None

    @classmethod
    def typed(
        cls, options: Mapping[str, Any], overrides: Sequence[str], kind: str | None = None
    ) -> Invocation:
        """The invocation in Django's parsed `options` and the `overrides` typed after the
        names; an error for a part of it that its mode does not take."""
        for dest, (flag, what) in MODE_VALUES.items():
            value = options.get(dest)
            if isinstance(value, str) and not value.strip():
                raise ProdserverError(f"{flag} was given an empty value; it takes {what}.")
        typed = [mode for mode, rule in MODE_RULES.items() if rule.flag and options.get(mode)]
        if len(typed) > 1:
            flags = [MODE_RULES[mode].flag for mode in typed]
            every_flag = [rule.flag for rule in MODE_RULES.values() if rule.flag]
            raise ProdserverError(
                f"{' and '.join(flags)}: give one of {', '.join(every_flag)} at a time."
            )
        mode = typed[0] if typed else "start"
        names = list(options.get("names") or ())
        together = bool(options.get("all") or options.get("log_format")) or len(names) > 1
        port, overrides = runner_port(overrides, together)
        given = {
            NAMES: list(options.get("names") or ()),
            ALL: [ALL] if options.get("all") else [],
            OVERRIDES: list(overrides),
            DRY_RUN: [DRY_RUN] if options.get("dry_run") else [],
            EXPORT_FLAGS: export_flags_given(options),
            ENV_FILES: [f"--env-file {path}" for path in options.get("env_file") or ()],
            LOG_FORMAT: [f"--log-format {options['log_format']}"]
            if options.get("log_format")
            else [],
        }
        refuse_what_the_mode_does_not_take(MODE_RULES[mode], given)
        names, copies = read_formation(given[NAMES])
        if copies and mode != "start":
            raise ProdserverError(
                f"{' '.join(f'{name}={count}' for name, count in copies.items())}: a "
                f"formation (NAME=N) is for starting processes; {MODE_RULES[mode].flag} "
                f"takes the names alone."
            )
        return cls(
            mode=mode,
            names=tuple(names),
            copies=copies,
            every=bool(given[ALL]),
            dry_run=bool(given[DRY_RUN]),
            skip_checks=bool(options.get("skip_checks")),
            probe=options.get("probe"),
            export=ExportRequest.from_options(options) if mode == "export" else None,
            overrides=tuple(overrides),
            django=DjangoOptions.from_options(options),
            kind=kind,
            env_files=tuple(options.get("env_file") or ()),
            log_format=options.get("log_format") or None,
            port=port,
        )


def runner_port(overrides: Sequence[str], together: bool) -> tuple[int | None, list[str]]:
    """`--port N` typed with several processes: the base of their ports, and the rest.

    With one process, `--port` stays an option of its server, as every option typed after
    the name; run together, no option typed after the names reaches a server.
    """
    words = list(overrides)
    if not together:
        return None, words
    rest: list[str] = []
    port: str | None = None
    while words:
        word = words.pop(0)
        if word == "--port" and words:
            port = words.pop(0)
        elif word.startswith("--port="):
            port = word.removeprefix("--port=")
        else:
            rest.append(word)
    if port is None:
        return None, rest
    port = port.strip()
    if not (port.isascii() and port.isdigit() and len(port) <= 5):
        raise ProdserverError(
            f"--port {port!r}: the base of the web processes' ports is a number, such as "
            f"--port 5000 (the first web process gets 5000, the next 5100, ...)."
        )
    return int(port), rest


def refuse_what_the_mode_does_not_take(rule: ModeRule, given: Mapping[str, list[str]]) -> None:
    if given[EXPORT_FLAGS] and EXPORT_FLAGS not in rule.takes:
        words = ", ".join(given[EXPORT_FLAGS])
        raise ProdserverError(
            EXPORT_FLAGS_REFUSAL.format(given=words, formats=", ".join(FORMAT_NAMES))
        )
    refused = [word for part, words in given.items() if part not in rule.takes for word in words]
    if refused:
        raise ProdserverError(rule.refusal.format(given=" ".join(refused)))
    if given[NAMES] and given[ALL]:
        raise ProdserverError(
            f"Give process names or --all, not both (got --all and {' '.join(given[NAMES])})."
        )


def split_server_args(
    tokens: Sequence[str], parser: argparse.ArgumentParser, process_names: Collection[str]
) -> tuple[list[str], list[str]]:
    """Split `web --workers=8 -v 2 -k gevent` into Django's and the server's tokens.

    Options the command itself knows (`--settings`, `-v`, `--dry-run`, ...) stay with
    Django; every other option goes to the server, and so does everything after
    `--`. A bare word after a server option without `=` is that option's value,
    unless it names a configured process. `--reload` after a name is the server's
    (gunicorn's, uvicorn's own `--reload`, as before `prodserver --reload` existed).
    """
    own = parser._option_string_actions
    django_tokens: list[str] = []
    server_tokens: list[str] = []
    remaining = list(tokens)
    server_value_expected = False
    named = False
    while remaining:
        token = remaining.pop(0)
        if token == "--":
            server_tokens.extend(remaining)
            break
        name = token.split("=", 1)[0]
        if (
            token.startswith("-")
            and _is_own(name, token, own)
            and not (named and name in SERVERS_AFTER_A_NAME)
        ):
            django_tokens.append(token)
            action = own.get(name)
            if action is not None and action.nargs != 0 and "=" not in token and remaining:
                django_tokens.append(remaining.pop(0))
            server_value_expected = False
        elif token.startswith("-") and len(token) > 1:
            server_tokens.append(token)
            server_value_expected = "=" not in token
        elif server_value_expected and token not in process_names:
            server_tokens.append(token)
            server_value_expected = False
        else:
            django_tokens.append(token)
            server_value_expected = False
            named = named or not token.startswith("-")
    return django_tokens, server_tokens


def _is_own(name: str, token: str, own: dict[str, argparse.Action]) -> bool:
    if name in own:
        return True
    # Short options written together with their value: `-v2`.
    return not token.startswith("--") and token[:2] in own and own[token[:2]].nargs != 0
