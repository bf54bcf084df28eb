"""The rolling reload: SIGHUP to the runner (or `prodserver --reload`) replaces every process
in turn, each by a new `prodserver NAME` child, so that new code is loaded.

One process at a time, in the configured order (each copy of a formation in turn):

- a web process that serves on the runner's socket (`replace`) gets a new child on that
  socket and on a private loopback socket the runner binds for it; the runner sends its
  HEALTH check there until it passes, then stops the old child warmly (its STOP_SIGNAL,
  STOP_TIMEOUT, then killed). The port is never closed;
- granian (`beside`) binds its own address with SO_REUSEPORT: a new child starts beside
  the old one, and once the new child's processes listen on the port and the HEALTH check
  through the address passes, the old one is stopped;
- anything else (`restart`, the workers) is stopped warmly, then started again.

A new child that exits, answers its health check with another status than HEALTH's
STATUS, or does not answer within START_TIMEOUT is stopped; the old one keeps serving,
and the reload stops there: the processes not reloaded yet keep their old code, rather
than a half-new set running beside a broken new one.

SIGHUPs that arrive within SETTLE of the first make one reload; one that arrives during
a reload makes one more after it, however many arrive. The loop never waits on a step:
`advance()` moves each step on, and `wake_at()` tells the loop when to come back.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Callable
from typing import Protocol

from django_prodserver.runner.child import Child
from django_prodserver.runner.health_probe import HttpProbe
from django_prodserver.runner.listening import group_listens
from django_prodserver.runner.sockets import bind_private, close_private, private_address

# Signals this close together make one reload.
SETTLE = 0.2
# The longest a new child has to pass its health check (or a restarted one to start).
START_TIMEOUT = 60.0
# After a probe that got no answer (the connection was closed), the next one after this.
RETRY = 0.25
# How often to look whether a new child beside the old one listens yet.
LISTEN_POLL = 0.1


class Supervisor(Protocol):
    """What a reload asks of the runner's loop (manager.py)."""

    children: list[Child]
    clock: Callable[[], float]

    def say(self, text: str) -> None: ...

    def start_child(self, child: Child) -> bool: ...

    def retire(self, child: Child) -> None: ...

    def stop_to_restart(self, child: Child) -> None: ...

    def watch_probe(self, probe: HttpProbe | None, previous: HttpProbe | None) -> None: ...


class Step:
    """The reload of one process: its old child, the new one, and the check between."""

    def __init__(self, old: Child, began: float) -> None:
        self.old = old
        self.began = began
        self.deadline = began + START_TIMEOUT
        self.new: Child | None = None
        self.private: socket.socket | None = None
        self.probe: HttpProbe | None = None
        self.next_try: float | None = None
        self.last_seen = "no answer yet"


class Reloader:
    def __init__(self, supervisor: Supervisor) -> None:
        self.runner = supervisor
        self.due_at: float | None = None
        self.queue: list[Child] = []
        self.step: Step | None = None
        self.again = False
        self.began = 0.0
        self.replaced = 0

    @property
    def active(self) -> bool:
        return self.step is not None or bool(self.queue)

    def request(self, received: str) -> None:
        """A reload is asked for (`received`: the signal's name)."""
        if self.active:
            if not self.again:
                self.again = True
                self.runner.say(
                    f"{received} received during a reload: one more reload follows this one "
                    f"(further ones until then join it)."
                )
            return
        if self.due_at is None:
            self.due_at = self.runner.clock() + SETTLE
            self.runner.say(f"{received} received: reloading every process in turn.")

    def wake_at(self) -> list[float]:
        times = []
        if self.due_at is not None:
            times.append(self.due_at)
        if self.step is not None and self.step.deadline < math.inf:
            times.append(self.step.deadline)
            if self.step.next_try is not None:
                times.append(self.step.next_try)
        return times

    def advance(self) -> None:
        """Move the reload on as far as it goes now."""
        now = self.runner.clock()
        if self.due_at is not None and now >= self.due_at:
            self.due_at = None
            self.queue = [child for child in self.runner.children if reloadable(child)]
            self.began, self.replaced = now, 0
        while True:
            if self.step is not None:
                self._progress(self.step)
                if self.step is not None:
                    return
            if not self.queue:
                return
            old = self.queue.pop(0)
            if reloadable(old):
                self._begin(old)
            elif not self.queue:
                self._finish()

    def probe_ready(self) -> None:
        """The probe's socket can take or give what it waits for."""
        if self.step is not None and self.step.probe is not None:
            self.step.probe.step()
            self._progress(self.step)

    def child_ended(self, child: Child, how: str) -> None:
        """`child` ended; a new child under its check has failed."""
        step = self.step
        if step is not None and child is step.new:
            child.retiring = True
            self._fail(step, f"the new child {how} before it passed its health check")

    def cancel(self) -> None:
        """Everything stops: so does the reload."""
        if self.step is not None:
            self._close(self.step)
        self.step, self.queue, self.due_at, self.again = None, [], None, False

    # The steps

    def _begin(self, old: Child) -> None:
        step = self.step = Step(old, self.runner.clock())
        if old.style == "restart" or old.pid is None:
            step.deadline = math.inf  # it has its STOP_TIMEOUT, then starts at once
            if old.pid is None:
                old.start_at = step.began  # down (backing off): it starts now, new code
            else:
                self.runner.stop_to_restart(old)
            return
        new = step.new = old.successor()
        if old.style == "replace":
            try:
                step.private = bind_private(old.where.startswith("unix:"))
            except OSError as error:
                self._fail(step, f"the runner could not bind a loopback port to check it ({error})")
                return
            new.extra_fds = (step.private.fileno(),)
        if step.private is not None:
            self.runner.say(
                f"Reloading {old.name}: a new child on {old.where}, its HEALTH check sent "
                f"to {shown(private_address(step.private))}; once it passes, the old one "
                f"(pid {old.pid}) stops."
            )
        else:
            self.runner.say(
                f"Reloading {old.name}: a new child beside the old one (pid {old.pid}), "
                f"checked once it listens on {old.where}; once it passes, the old one stops."
            )
        self.runner.children.insert(self.runner.children.index(old) + 1, new)
        if not self.runner.start_child(new):
            self._fail(step, "the new child could not start")
            return
        if step.private is not None:
            self._try(step)
        else:
            step.next_try = step.began

    def _progress(self, step: Step) -> None:
        now = self.runner.clock()
        old, new = step.old, step.new
        if new is None:  # a restart: done once it runs again
            if old.pid is not None and old.started_at >= step.began:
                self._done(step)
            elif old.finished or old.failed or old.retiring:
                self.step = None  # ended for good meanwhile: nothing to reload
                if not self.queue:
                    self._finish()
            return
        answer = step.probe.answer if step.probe is not None else None
        if answer is not None:
            step.last_seen = answer.seen
            self._watch(step, None)
            if answer.status == new.probe.get("status"):
                self._pass(step)
                return
            if answer.status is not None:
                self._fail(step, f"{answer.seen}, not the {new.probe.get('status')} of HEALTH")
                return
            step.next_try = now + RETRY
        if now >= step.deadline:
            self._fail(step, f"no healthy answer within {START_TIMEOUT:g} s ({step.last_seen})")
        elif step.next_try is not None and now >= step.next_try:
            self._try(step)

    def _try(self, step: Step) -> None:
        step.next_try = None
        new = step.new
        assert new is not None
        if step.private is not None:
            host, port = private_address(step.private)
        else:
            assert new.pgid is not None
            host, port = new.probe["connect"], int(new.probe["port"])
            listens = group_listens(new.pgid, port)
            if listens is False:
                step.next_try = self.runner.clock() + LISTEN_POLL
                step.last_seen = f"the new child does not listen on port {port} yet"
                return
        probe = HttpProbe(host, port, str(new.probe["path"]), str(new.probe["host"]))
        self._watch(step, probe)
        if probe.answer is not None:
            self._progress(step)

    def _watch(self, step: Step, probe: HttpProbe | None) -> None:
        previous, step.probe = step.probe, probe
        self.runner.watch_probe(probe, previous)
        if previous is not None and previous is not probe:
            previous.close()

    def _pass(self, step: Step) -> None:
        new = step.new
        assert new is not None
        new.extra_fds = ()
        self._close(step)
        self.runner.say(
            f"{new.name}: the new child (pid {new.pid}) passed its health check "
            f"({step.last_seen}); stopping the old one (pid {step.old.pid})."
        )
        self.runner.retire(step.old)
        self._done(step)

    def _fail(self, step: Step, why: str) -> None:
        self._close(step)
        self.step = None
        rest = [child.name for child in self.queue if reloadable(child)]
        self.queue = []
        new = step.new
        if new is not None and new in self.runner.children:
            new.extra_fds = ()
            self.runner.retire(new)
        old = step.old
        keeps = f"the old one (pid {old.pid}) keeps serving" if old.pid else "the old one stays"
        self.runner.say(
            f"Reload of {old.name} failed: {why}. The new child is stopped; {keeps}. "
            f"The reload stops here"
            + (f": {', '.join(rest)} keep running as they were." if rest else ".")
        )
        self._after()

    def _done(self, step: Step) -> None:
        self.step = None
        self.replaced += 1
        if not self.queue:
            self._finish()

    def _finish(self) -> None:
        seconds = self.runner.clock() - self.began
        count = f"{self.replaced} process{'' if self.replaced == 1 else 'es'}"
        self.runner.say(f"Reload done: {count} replaced in {seconds:.1f} s.")
        self._after()

    def _after(self) -> None:
        if self.again:
            self.again = False
            self.due_at = self.runner.clock() + SETTLE
            self.runner.say("Starting the reload asked for during the last one.")

    def _close(self, step: Step) -> None:
        self._watch(step, None)
        if step.private is not None:
            close_private(step.private)
            step.private = None


def shown(address: tuple[str, int]) -> str:
    host, port = address
    return f"unix:{host}" if port == 0 else f"{host}:{port}"


def reloadable(child: Child) -> bool:
    """A process still in the runner: running, or due to start again."""
    return not child.retiring and not child.finished
