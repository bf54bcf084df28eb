"""Backends of the runner's tests, copied into each test project as `runner_backends.py`.

Any class with `plan()` and `run()` is a backend: these do just what a test needs.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence

from django.conf import settings

from django_prodserver.backends.base import Backend, Plan


class TestBackend(Backend):
    kind = "worker"
    server = "test"

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        return Plan(self.name, (type(self).__name__.lower(),), dict(env or {}))

    def option(self, name: str, default: int) -> int:
        args = self.spec.args
        return int(args.get(name, default)) if isinstance(args, Mapping) else default


class NumberedLines(TestBackend):
    """Prints `NAME NUMBER` lines, padded to ARGS width, one of them longer than a pipe."""

    def run(self, plan: Plan) -> int:
        count, width = self.option("count", 1000), self.option("width", 60)
        long_at = count // 2
        for number in range(count):
            line = f"{self.name} {number:07d} "
            size = 200_000 if number == long_at else width
            sys.stdout.write(line + "x" * (size - len(line)) + "\n")
        sys.stdout.write(f"{self.name} end without newline")
        sys.stdout.flush()
        return 0


class Crash(TestBackend):
    """Ends with status 1 at once."""

    def run(self, plan: Plan) -> int:
        print("crashing now", flush=True)
        return 1


class Stubborn(TestBackend):
    """Ignores SIGTERM: only SIGKILL ends it."""

    def run(self, plan: Plan) -> int:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring SIGTERM", flush=True)
        while True:
            time.sleep(1)


class ShowEnvironment(TestBackend):
    """Prints its pid, GREETING as the settings saw it at import and as it is now; waits."""

    def run(self, plan: Plan) -> int:
        seen = getattr(settings, "GREETING_AT_IMPORT", None)
        print(f"pid={os.getpid()} settings={seen} environ={os.environ.get('GREETING')}", flush=True)
        if self.option("wait", 1):
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while True:
                time.sleep(1)
        return 0


class Orphans(TestBackend):
    """Leaves a grandchild behind whose parent is gone: as PID 1, the runner inherits it."""

    def run(self, plan: Plan) -> int:
        helper = os.fork()
        if helper == 0:
            if os.fork() == 0:
                time.sleep(0.3)  # outlives its parent, then ends: a zombie unless reaped
                os._exit(0)
            os._exit(0)
        os.waitpid(helper, 0)
        print("left an orphan", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while True:
            time.sleep(1)


class Chatty(TestBackend):
    """Prints numbered lines as fast as it can until SIGTERM."""

    def run(self, plan: Plan) -> int:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        number = 0
        while True:
            sys.stdout.write(f"{self.name} {number:09d} {'x' * 40}\n")
            number += 1


class Nest(TestBackend):
    """Becomes `manage.py prodserver --all`: a runner among a runner's processes."""

    def run(self, plan: Plan) -> int:
        os.execv(sys.executable, [sys.executable, sys.argv[0], "prodserver", "--all"])
