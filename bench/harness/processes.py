"""Processes: starting them in a session of their own, stopping them, what /proc says of them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from harness import EXAMPLE, HOST, BenchError

STOP_TIMEOUT = 60.0  # seconds from SIGTERM until the process exits, then its group is killed
LEFT_OVER_GRACE = 5.0  # seconds given to processes still there when the main one exits


def require_smaps_rollup() -> None:
    if not Path("/proc/self/smaps_rollup").exists():
        sys.exit("needs Linux with /proc/PID/smaps_rollup (kernel 4.14 or later).")


# --- ports ----------------------------------------------------------------------------------


def find_free_port() -> int:
    """A port the kernel hands out for port 0, checked to have no listener."""
    for _ in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((HOST, 0))
            port = int(probe.getsockname()[1])
        if not something_listens(port):
            return port
    raise BenchError("no free port found in 20 tries")


def something_listens(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((HOST, port)) == 0


# --- /proc ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    state: str
    ppid: int
    pgrp: int
    starttime: int
    cpu_ticks: int  # utime + stime, in clock ticks


def read_proc(pid: int) -> ProcInfo | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # Field 2 (comm) may hold spaces and parentheses: split after its closing one.
    fields = text[text.rindex(")") + 2 :].split()
    return ProcInfo(
        pid=pid,
        state=fields[0],
        ppid=int(fields[1]),
        pgrp=int(fields[2]),
        starttime=int(fields[19]),
        cpu_ticks=int(fields[11]) + int(fields[12]),
    )


def all_processes() -> list[ProcInfo]:
    found = (read_proc(int(name)) for name in os.listdir("/proc") if name.isdigit())
    return [info for info in found if info is not None]


def descendants(root: int) -> list[ProcInfo]:
    """Children of root (workers), their children, and so on, found by ppid."""
    by_parent: dict[int, list[ProcInfo]] = {}
    for info in all_processes():
        by_parent.setdefault(info.ppid, []).append(info)
    found: list[ProcInfo] = []
    parents = [root]
    while parents:
        children = by_parent.get(parents.pop(), [])
        found.extend(children)
        parents.extend(child.pid for child in children)
    return found


def pss_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0  # gone between listing and reading
    match = re.search(r"^Pss:\s+(\d+) kB$", text, re.MULTILINE)
    if match is None:
        raise BenchError(f"no Pss line in /proc/{pid}/smaps_rollup")
    return int(match.group(1))


def tree_pss_kib(pid: int, children: Sequence[ProcInfo]) -> tuple[int, int]:
    """PSS of the process alone, and with `children` (its descendants)."""
    main = pss_kib(pid)
    return main, main + sum(pss_kib(child.pid) for child in children)


def rss_kib(pid: int) -> int:
    match = re.search(r"^VmRSS:\s+(\d+) kB$", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [word.decode(errors="replace") for word in raw.split(b"\0")[:-1]]


def describe(pid: int) -> str:
    """`PID NAME`, the name from /proc/PID/comm."""
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        name = "?"
    return f"{pid} {name}"


def still_running(seen: Sequence[ProcInfo]) -> list[int]:
    """Those of `seen` that still exist (same pid and start time) and are not zombies."""
    left = []
    for before in seen:
        now = read_proc(before.pid)
        if now is not None and now.starttime == before.starttime and now.state != "Z":
            left.append(before.pid)
    return left


def group_members(pgrp: int) -> list[int]:
    return [info.pid for info in all_processes() if info.pgrp == pgrp and info.state != "Z"]


def left_over(pid: int, children: Sequence[ProcInfo]) -> list[int]:
    """What is still alive of `children` or of the process group `pid` led."""
    return sorted(set(still_running(children)) | set(group_members(pid)))


def wait_until_gone(pid: int, children: Sequence[ProcInfo], grace: float) -> float | None:
    """Seconds until nothing of the process is left; None if something outlives `grace`."""
    started_at = time.monotonic()
    while left_over(pid, children):
        if time.monotonic() - started_at > grace:
            return None
        time.sleep(0.05)
    return time.monotonic() - started_at


# --- starting and stopping ------------------------------------------------------------------


def start(
    argv: Sequence[str],
    env: dict[str, str] | None,
    log: Path,
    *,
    append: bool = False,
    discard_stdout: bool = False,
) -> subprocess.Popen[bytes]:
    """argv from example/, in a session (and process group) of its own; its output to `log`.

    With `discard_stdout` only stderr goes to the log (a web server's access log would
    grow with every request).
    """
    with log.open("ab" if append else "wb") as output:
        return subprocess.Popen(
            list(argv),
            cwd=EXAMPLE,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if discard_stdout else output,
            stderr=output if discard_stdout else subprocess.STDOUT,
            start_new_session=True,
        )


def kill_tree(process: subprocess.Popen[bytes], known: Sequence[ProcInfo]) -> None:
    """SIGKILL to the process's group, to its descendants and to `known` ones still there."""
    if process.poll() is None:
        known = [*known, *descendants(process.pid)]
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in still_running(known):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        print(f"warning: pid {process.pid} survived SIGKILL for 10 s", file=sys.stderr)


@dataclass(frozen=True)
class Stopped:
    """How a process ended after SIGTERM."""

    seconds: float | None  # None: still running `timeout` after SIGTERM (kill_tree ends it)
    status: int | None
    left_at_exit: list[int]  # of its group or of `children`, still there when it exited
    left_names: list[str]  # the same as `PID NAME`, read at its exit
    left_for_s: float | None  # how long they stayed; None: still there after the grace


def terminate(
    process: subprocess.Popen[bytes],
    children: Sequence[ProcInfo],
    *,
    timeout: float = STOP_TIMEOUT,
    grace: float = LEFT_OVER_GRACE,
) -> Stopped:
    """SIGTERM; how long the process took to exit, and what was left of it then (given
    `grace` seconds to go)."""
    started_at = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return Stopped(None, None, [], [], 0.0)
    seconds = time.monotonic() - started_at
    left = left_over(process.pid, children)
    names = [describe(pid) for pid in left]
    left_for_s = wait_until_gone(process.pid, children, grace) if left else 0.0
    return Stopped(seconds, status, left, names, left_for_s)


def tail(log: Path, size: int = 3000) -> str:
    return log.read_text(errors="replace")[-size:] if log.exists() else ""


@contextmanager
def log_on_failure(log: Path, label: str = "") -> Iterator[None]:
    """A BenchError raised inside gets `label: ` in front and the tail of `log` after it."""
    try:
        yield
    except BenchError as error:
        prefix = f"{label}: " if label else ""
        raise BenchError(f"{prefix}{error}\n{tail(log)}") from error
