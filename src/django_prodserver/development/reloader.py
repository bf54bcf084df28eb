"""A worker restarted when the code changes: what `manage.py devserver WORKER` runs.

Celery dropped `--autoreload`, and no task framework reloads by itself; Django's own
autoreloader cannot serve here, since it ends the process at once, with the task it was
running. So the worker runs in a process group of its own, started by this small
supervisor, which watches the files (see watching.py) and, once a burst of saves has
settled, stops the worker the way it stops in production (its STOP_SIGNAL, which every
framework takes as "finish the tasks in progress, take no more"; killed after
STOP_TIMEOUT) and starts it again. A worker that ends by itself (an error at import,
say) is started again at the next change, as runserver waits for a fix. SIGTERM or
SIGINT stops the worker and ends the supervisor. The worker is started and stopped by
lifecycle/child.py, and watched by a watchdog of this supervisor's, as the runner's
children are by the runner's (lifecycle/watchdog.py).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TextIO

from django_prodserver.development.watching import POLL_INTERVAL, Watcher
from django_prodserver.lifecycle.child import ChildProcess, start, stop_one
from django_prodserver.lifecycle.watchdog import RUNNER_PID, Watchdog
from django_prodserver.processes import ProcessSpec
from django_prodserver.runner.manager import describe_exit

# A burst of saves (an editor's "save all", a `git checkout`) has settled when this long
# passes without another change; a burst longer than SETTLE_AT_MOST restarts anyway.
QUIET = 0.2
SETTLE_AT_MOST = 2.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


class WorkerReloader:
    """Runs `argv` (the worker), and runs it again, gracefully, when a watched file changes."""

    def __init__(
        self,
        spec: ProcessSpec,
        argv: Sequence[str],
        env: Mapping[str, str],
        watcher: Callable[[], Watcher],
        output: TextIO,
        project: Sequence[Path] = (),
    ) -> None:
        """`spec` is the worker's: its name, STOP_SIGNAL and STOP_TIMEOUT; `argv` and `env`
        what is started for it."""
        self.name = spec.name
        self.argv = list(argv)
        self.env = dict(env)
        self.stop_signal = spec.stop_signal_number
        self.stop_timeout = spec.stop_timeout
        self.make_watcher = watcher
        self.output = output
        self.project = project
        self.worker: ChildProcess | None = None
        # The worker being stopped, while the supervisor waits for it.
        self.stopping: ChildProcess | None = None
        self.asked_to_stop: signal.Signals | None = None
        self.watchdog: Watchdog | None = None

    def say(self, message: str) -> None:
        self.output.write(f"[devserver] {message}\n")
        self.output.flush()

    def run(self) -> int:
        previous = {signum: signal.signal(signum, self._on_stop) for signum in STOP_SIGNALS}
        self.watchdog = Watchdog.start()
        try:
            watcher = self.make_watcher()
            try:
                self.say(
                    f"{self.name} restarts when the code changes (watching with "
                    f"{watcher.description})."
                )
                return self._loop(watcher)
            finally:
                watcher.close()
        finally:
            self._stop_worker()
            if self.watchdog is not None:
                self.watchdog.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        worker = self.worker or self.stopping
        if self.asked_to_stop is not None and worker is not None:
            # Asked again: kill now, as the runner and a terminal's second Ctrl-C do.
            worker.kill()
        self.asked_to_stop = signal.Signals(signum)

    def _loop(self, watcher: Watcher) -> int:
        self._start()
        while self.asked_to_stop is None:
            changed = watcher.changes(POLL_INTERVAL)
            self._notice_an_end()
            if not changed or self.asked_to_stop is not None:
                continue
            changed |= self._settle(watcher)
            if self.asked_to_stop is not None:
                break
            self.say(f"{self.changed_files(changed)} changed: restarting {self.name}.")
            self._stop_worker()
            if self.asked_to_stop is None:
                self._start()
        self.say(f"{self.asked_to_stop.name} received: {self.name} stopped.")
        return 0

    def _settle(self, watcher: Watcher) -> set[Path]:
        """Changes until a QUIET moment without one: a save of ten files restarts once."""
        more: set[Path] = set()
        deadline = time.monotonic() + SETTLE_AT_MOST
        while time.monotonic() < deadline and self.asked_to_stop is None:
            batch = watcher.changes(QUIET)
            if not batch:
                break
            more |= batch
        return more

    def changed_files(self, changed: set[Path]) -> str:
        first = sorted(changed)[0]
        shown = next(
            (str(first.relative_to(root)) for root in self.project if root in first.parents),
            str(first),
        )
        return shown + (f" and {len(changed) - 1} more" if len(changed) > 1 else "")

    def _start(self) -> None:
        # The worker stops with this supervisor, even if it is killed (see lifecycle/watchdog.py).
        env = {**self.env, RUNNER_PID: str(os.getpid())}
        self.worker = start(self.argv, env, capture_output=False)
        if self.watchdog is not None:
            self.watchdog.watch(self.worker.pid, self.stop_signal, self.stop_timeout)

    def _notice_an_end(self) -> None:
        """A worker that ended by itself is reported, and started again at the next change."""
        worker = self.worker
        if worker is None or not worker.ended():
            return
        worker.kill()  # what is left of its group
        self._forget(worker)
        self.worker = None
        assert worker.code is not None
        self.say(f"{self.name} {describe_exit(worker.code)}; it starts again when a file changes.")

    def _stop_worker(self) -> None:
        """Its stop signal, then up to STOP_TIMEOUT for the tasks in progress; then killed."""
        worker, self.worker = self.worker, None
        if worker is None:
            return
        self.stopping = worker
        stop_one(
            worker,
            self.stop_signal,
            self.stop_timeout,
            lambda: self.say(
                f"{self.name} did not stop within {self.stop_timeout:g} s (STOP_TIMEOUT): "
                f"killing it."
            ),
        )
        self._forget(worker)
        self.stopping = None

    def _forget(self, worker: ChildProcess) -> None:
        if self.watchdog is not None:
            self.watchdog.forget(worker.pid)
