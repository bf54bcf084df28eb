"""This program, as this interpreter runs it: started again, or replaced by another.

A process that execs keeps its PID: the signals a supervisor (systemd, Docker, the runner)
sends it, and the exit status it waits for, are those of the program that replaces it.

Only the standard library: the runner's own interpreter and its watchdog import it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn


def replace_this_process(argv: Sequence[str], env: Mapping[str, str]) -> NoReturn:
    """Become `argv` (found on PATH unless it is a path), with `env` as its environment.

    What this process has written but not flushed is written first, so that no line is
    lost or printed twice.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(argv[0], list(argv), dict(env))


def this_command_prefix() -> list[str]:
    """How this interpreter ran the program: `python [options] manage.py` or `python -m django`.

    `sys.orig_argv` holds the interpreter's own options and the script (or `-m module`,
    `-c code`) before the program's arguments, which are `sys.argv[1:]`.
    """
    arguments = len(sys.argv) - 1
    original = list(getattr(sys, "orig_argv", []))
    if not original or len(original) <= arguments:
        return [sys.executable, sys.argv[0]]
    return [sys.executable, *original[1 : len(original) - arguments]]
