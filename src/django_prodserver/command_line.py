"""Telling Django's options from the server options typed after a process name."""

from __future__ import annotations

import argparse
from collections.abc import Collection, Sequence


def split_server_args(
    tokens: Sequence[str], parser: argparse.ArgumentParser, process_names: Collection[str]
) -> tuple[list[str], list[str]]:
    """Split `web --workers=8 -v 2 -k gevent` into Django's and the server's tokens.

    Options the command itself knows (`--settings`, `-v`, `--dry-run`, ...) stay with
    Django; every other option goes to the server, and so does everything after
    `--`. A bare word after a server option without `=` is that option's value,
    unless it names a configured process.
    """
    own = parser._option_string_actions
    django_tokens: list[str] = []
    server_tokens: list[str] = []
    remaining = list(tokens)
    server_value_expected = False
    while remaining:
        token = remaining.pop(0)
        if token == "--":
            server_tokens.extend(remaining)
            break
        name = token.split("=", 1)[0]
        if token.startswith("-") and _is_own(name, token, own):
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
    return django_tokens, server_tokens


def _is_own(name: str, token: str, own: dict[str, argparse.Action]) -> bool:
    if name in own:
        return True
    # Short options written together with their value: `-v2`.
    return not token.startswith("--") and token[:2] in own and own[token[:2]].nargs != 0
