"""Celery's own click commands, as `celery` parses a line with them."""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery


@cache
def celery_command() -> Any:
    """The `celery` click group, with its sub-commands (Flower's is a plugin of it)."""
    from celery.bin.celery import celery

    return celery


def sub_command(name: str, app: Celery) -> Any:
    """A sub-command with the options the app adds to it (`app.user_options`)."""
    command = copy.copy(celery_command().commands[name])
    extra = [*app.user_options.get(name, ()), *app.user_options.get("preload", ())]
    command.params = [*command.params, *extra]
    return command


def global_command() -> Any:
    """The `celery` group's own options, as a command whose callbacks do nothing.

    `--workdir` changes the working directory as soon as it is parsed; checking a
    line must not do that.
    """
    import click

    params = []
    for parameter in celery_command().params:
        parameter = copy.copy(parameter)
        parameter.callback = None
        params.append(parameter)
    return click.Command("celery", params=params)
