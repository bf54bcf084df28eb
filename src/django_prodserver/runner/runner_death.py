"""A process run together with others stops when its runner dies, even by SIGKILL.

The runner sends each process its stop signal when asked to stop, and kills what is left
of it after its STOP_TIMEOUT; a runner killed by `kill -9` or the OOM killer can do
neither, and its processes would go on without it, holding their ports. So:

- the runner names itself in each child's environment, and the child asks Linux to send
  it its stop signal when its parent dies (PR_SET_PDEATHSIG). The request survives the
  exec of a server's own program;
- the child starts a watchdog, a process (in a group of its own) that waits for either
  end: when the child's main process ends first (the runner is alive and sees to the
  rest), it leaves; when the runner dies first, it gives the main process its
  STOP_TIMEOUT to stop, as the runner would have, then kills the whole group (a main
  process that ignores its stop signal, workers left behind) and itself with it; once the
  main process has ended, what is left of its group is killed at once. It is
  forked twice, so that it is not a child of the server (which would reap it, or wait for
  it), and waits on pidfds, so a reused pid cannot fool it;
- a runner's children are told by a second variable, which they hand on to whatever they
  start, that they run under a runner: one of them asked to run several processes
  refuses (see command.py), so that runners cannot nest (a process named `--all`).
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys

RUNNER_PID = "DJANGO_PRODSERVER_RUNNER_PID"
# Kept by the runner's children and everything they start: they run under a runner.
UNDER_RUNNER = "DJANGO_PRODSERVER_UNDER_RUNNER"
PR_SET_PDEATHSIG = 1


def stop_with_the_runner(name: str, stop_signal: int, stop_timeout: float) -> None:
    """Have `stop_signal` sent to this process when the runner that started it dies, and
    the process group killed `stop_timeout` seconds later if it has not ended by then.

    Nothing happens when the process was not started by the runner, or off Linux.
    """
    runner = os.environ.pop(RUNNER_PID, None)
    if runner is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, stop_signal, 0, 0, 0) != 0:
        return
    try:
        # Opened before the runner is known to be alive: the pidfd then names the runner.
        runner_fd = os.pidfd_open(int(runner))
    except OSError:
        runner_fd = -1  # gone already (told below), or a kernel older than 5.3
    if os.getppid() != int(runner):
        # The runner died before the request was made: nobody will stop this process.
        sys.exit(f"'{name}' was started by a runner (pid {runner}) that has ended; not starting.")
    if runner_fd >= 0:
        start_watchdog(runner_fd, stop_timeout)


def start_watchdog(runner_fd: int, stop_timeout: float) -> None:
    """Fork the watchdog (twice: see the module's docstring); return in this process."""
    main_fd = os.pidfd_open(os.getpid())
    sys.stdout.flush()
    sys.stderr.flush()
    helper = os.fork()
    if helper == 0:
        try:
            if os.fork() == 0:
                watch(runner_fd, main_fd, stop_timeout)
        finally:
            os._exit(0)
    os.waitpid(helper, 0)
    os.close(runner_fd)
    os.close(main_fd)


def watch(runner_fd: int, main_fd: int, stop_timeout: float) -> None:
    """The watchdog's life; it never returns.

    It leaves the process's group and output: the runner, which waits for the group to
    empty and for the output pipe to close, must not wait for the watchdog too.
    """
    status = 0
    try:
        group = os.getpgrp()
        os.setpgid(0, 0)
        for signum in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        nothing = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(nothing, fd)
        # Nothing of the server's: no pipe, socket, file or database connection stays open.
        low, high = sorted((runner_fd, main_fd))
        os.closerange(3, low)
        os.closerange(low + 1, high)
        os.closerange(high + 1, os.sysconf("SC_OPEN_MAX"))
        ended, _, _ = select.select([runner_fd, main_fd], [], [])
        if runner_fd in ended:
            # The runner is dead; Linux has sent the main process its stop signal.
            select.select([main_fd], [], [], stop_timeout)
            os.killpg(group, signal.SIGKILL)  # what is left of it
        # Else the main process ended first: the runner sees to what is left of its group.
    except BaseException:
        status = 1
    os._exit(status)
