"""Release steps: which processes they are, and running them in order, each to its end.

Each step runs as `python manage.py COMMAND ...` in a child process (not `call_command`
here): the line `--dry-run` prints is exactly what runs, the command's exit status is its
own (a `call_command` turns it into an exception, or ends this process with it), and a
step that leaves connections, threads or module state behind leaves them in its own
process, not in the one that starts the servers next.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from types import FrameType

from django_prodserver.backends.release import ReleaseCommand
from django_prodserver.planning import PlannedProcess

RELEASE_KIND = ReleaseCommand.kind
RELEASE_BACKEND = f"{ReleaseCommand.__module__}.{ReleaseCommand.__name__}"
# Signals a step is stopped with when this process is asked to stop while it runs.
PASSED_ON = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)


def is_release(process: PlannedProcess) -> bool:
    return process.backend is not None and process.backend.kind == RELEASE_KIND


def release_steps(planned: Sequence[PlannedProcess]) -> list[PlannedProcess]:
    return [process for process in planned if is_release(process)]


def to_stderr(line: str) -> None:
    """Where the release steps' own lines go: the command's stderr, beside theirs."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def run_release_steps(
    steps: Sequence[PlannedProcess], say: Callable[[str], None] = to_stderr
) -> int:
    """Run each step in order; the exit status of the first that fails, else 0.

    A signal that asks this process to stop is passed on to the step that runs, and no
    step starts after it.
    """
    for process in steps:
        backend, plan = process.ready()
        assert isinstance(backend, ReleaseCommand)
        say(f"Release step '{process.name}': {plan.command_line()}")
        with passing_signals_on() as received:
            child = backend.run_to_the_end(plan, {**os.environ, **plan.env})
            received.child = child.pid
            status = child.wait()
        if received.signal is not None:
            say(f"Release step '{process.name}' stopped by {received.signal.name}.")
            return 128 + received.signal.value
        if status != 0:
            code = status if status > 0 else 128 - status
            say(f"Release step '{process.name}' failed (exit status {code}): nothing else starts.")
            return code
    return 0


class _Received:
    def __init__(self) -> None:
        self.child: int | None = None
        self.signal: signal.Signals | None = None


@contextmanager
def passing_signals_on() -> Iterator[_Received]:
    received = _Received()

    def pass_on(signum: int, frame: FrameType | None) -> None:
        received.signal = signal.Signals(signum)
        if received.child is not None:
            with suppress(ProcessLookupError):
                os.kill(received.child, signum)

    previous = {signum: signal.signal(signum, pass_on) for signum in PASSED_ON}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
