"""A process's `ENV`, applied before anything of the process runs.

Settings are imported before `prodserver` knows which process it starts, and some
backends serve inside this very interpreter. So when the process's `ENV` is not yet
the environment, `prodserver NAME` starts itself again, once, with it set: the
settings, the server and everything they import then see the same variables as a
server started from a shell with those variables exported.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Mapping

from django_prodserver.lifecycle.replacing import replace_this_process, this_command_prefix
from django_prodserver.processes import ProcessSpec

# Set in the environment of the second start, so that it never starts a third.
APPLIED = "DJANGO_PRODSERVER_ENV_APPLIED"


def missing_variables(spec: ProcessSpec, environ: Mapping[str, str]) -> dict[str, str]:
    """The variables of the process's ENV that `environ` lacks or holds another value for."""
    return {name: value for name, value in spec.env.items() if environ.get(name) != value}


def apply_process_environment(
    spec: ProcessSpec, added: Collection[str] = (), keep: Mapping[str, str] | None = None
) -> None:
    """Start this command again with the process's ENV set, unless it is set already.

    `added`: variables this command has set in os.environ itself (from env files), which
    the settings, read before, have not seen: they too call for the second start.
    A second start that still finds a difference (the settings changed a variable
    themselves) goes on as it is rather than starting over and over. `keep`: variables
    this start has taken out of the environment that the next must find again (the
    inherited sockets').
    """
    already_applied = os.environ.pop(APPLIED, None) == spec.name
    missing = missing_variables(spec, os.environ)
    if (not missing and not added) or already_applied:
        return
    environ = {**os.environ, **missing, **(keep or {}), APPLIED: spec.name}
    replace_this_process([*this_command_prefix(), *sys.argv[1:]], environ)
