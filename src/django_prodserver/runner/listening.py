"""Whether a process group holds a listening TCP socket on a port, read from Linux's /proc.

A server that binds its own address with SO_REUSEPORT (granian) gives the runner no
socket: during a reload the runner waits until the new child's processes listen on the
port before it checks the health through the address and stops the old child. Elsewhere
than Linux nothing can be read, and `group_listens()` is None.
"""

from __future__ import annotations

import os

LISTEN_STATE = "0A"
TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def listening_inodes(port: int) -> set[str]:
    """The inodes of the sockets that listen on `port` (any address)."""
    inodes = set()
    for table in TABLES:
        try:
            with open(table) as lines:
                next(lines, None)
                for line in lines:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == LISTEN_STATE and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(inode)
        except (OSError, IndexError, ValueError):
            continue
    return inodes


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # After the command's name in parentheses: state, ppid, pgrp.
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:
            members.append(int(entry))
    return members


def group_listens(pgid: int, port: int) -> bool | None:
    """Whether a process of the group `pgid` holds a socket listening on `port`."""
    if not os.path.isdir("/proc/self/fd"):
        return None
    wanted = {f"socket:[{inode}]" for inode in listening_inodes(port)}
    if not wanted:
        return False
    for pid in group_members(pgid):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                    return True
            except OSError:
                continue
    return False
