"""A process run together with others stops when its runner dies, even by SIGKILL.

The runner sends each process its stop signal when asked to stop; a runner killed by
`kill -9` or the OOM killer cannot, and its processes would go on without it, holding
their ports. So the runner names itself in each child's environment, and the child asks
Linux to send it its stop signal when its parent dies (PR_SET_PDEATHSIG). The request
survives the exec of a server's own program.
"""

from __future__ import annotations

import ctypes
import os
import sys

RUNNER_PID = "DJANGO_PRODSERVER_RUNNER_PID"
PR_SET_PDEATHSIG = 1


def stop_with_the_runner(name: str, stop_signal: int) -> None:
    """Have `stop_signal` sent to this process when the runner that started it dies.

    Nothing happens when the process was not started by the runner, or off Linux.
    """
    runner = os.environ.pop(RUNNER_PID, None)
    if runner is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, stop_signal, 0, 0, 0) != 0:
        return
    if os.getppid() != int(runner):
        # The runner died before the request was made: nobody will stop this process.
        sys.exit(f"'{name}' was started by a runner (pid {runner}) that has ended; not starting.")
