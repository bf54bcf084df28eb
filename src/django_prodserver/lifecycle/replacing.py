"""This program, as this interpreter runs it: started again, or replaced by another.

Only the standard library: the runner's own interpreter and its watchdog import it.
"""

from __future__ import annotations

import sys


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
