"""Release steps: which processes they are, and running them in order, each to its end.

Each step runs as `python manage.py COMMAND ...` in a child process (lifecycle/child.py;
not `call_command` here): the line `--dry-run` prints is exactly what runs, the command's
exit status is its own (a `call_command` turns it into an exception, or ends this process
with it), and a step that leaves connections, threads or module state behind leaves them
in its own process, not in the one that starts the servers next.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from django_prodserver.backends.base import with_project_on_path
from django_prodserver.backends.release import ReleaseCommand
from django_prodserver.lifecycle.child import ChildProcess, start, stop_one, wait
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

    A step shares this command's process group, stdin and output, as a command typed at
    a terminal does (`collectstatic` may ask a question). A signal that asks this process
    to stop is passed on to the step that runs, which then has its STOP_TIMEOUT to end
    before it is killed, and no step starts after it.
    """
    for process in steps:
        backend, plan = process.ready()
        assert isinstance(backend, ReleaseCommand)
        say(f"Release step '{process.name}': {plan.command_line()}")
        env = with_project_on_path({**os.environ, **plan.env})
        child = start(
            backend.command_argv(plan), env, capture_output=False, own_group=False, keep_stdin=True
        )
        with passing_signals_on(child) as received:
            code = wait(child, until=lambda: bool(received))
            if code is None:
                timeout = process.spec.stop_timeout
                code = stop_one(
                    child,
                    None,
                    timeout,
                    lambda: say(
                        f"Release step '{process.name}' did not stop within {timeout:g} s "  # noqa: B023
                        f"(STOP_TIMEOUT): killing it."
                    ),
                )
        if received:
            say(f"Release step '{process.name}' stopped by {received[-1].name}.")
            return 128 + received[-1].value
        if code != 0:
            status = code if code > 0 else 128 - code
            say(
                f"Release step '{process.name}' failed (exit status {status}): nothing else starts."
            )
            return status
    return 0


@contextmanager
def passing_signals_on(child: ChildProcess) -> Iterator[list[signal.Signals]]:
    """While the step runs, each stop signal this process gets is passed on to it, and kept."""
    received: list[signal.Signals] = []

    def pass_on(signum: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(signum))
        child.send(signum)

    previous = {signum: signal.signal(signum, pass_on) for signum in PASSED_ON}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
