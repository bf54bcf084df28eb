"""gunicorn's control socket, left in place for the gunicorn that took its path over.

gunicorn 25.1 and later listen on a control socket (`gunicornc`) at one path per
process. A new gunicorn removes the file it finds there and binds its own; the old one,
stopping later (a rolling reload, a deploy that starts the new server first), removes the
file at that path as it goes: the new one's. Its socket then serves nobody. Here the old
one removes the file only while it is still its own socket.
"""

from __future__ import annotations

import os
from typing import Any


class UnlinksOnlyItsOwnSocket:
    """What gunicorn's control server module sees as `os`: `os` itself, but for two calls.

    gunicorn sets the socket's mode right after binding it: that is when the file is
    known to be this process's. Removing it later checks it is still that file.
    """

    def __init__(self) -> None:
        self.own_files: dict[str, tuple[int, int]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def chmod(self, path: str, mode: int, *args: Any, **kwargs: Any) -> None:
        os.chmod(path, mode, *args, **kwargs)
        status = os.stat(path)
        self.own_files[path] = (status.st_dev, status.st_ino)

    def unlink(self, path: str, *args: Any, **kwargs: Any) -> None:
        own = self.own_files.get(path)
        if own is not None:
            status = os.stat(path)  # an OSError, as from os.unlink, is gunicorn's to handle
            if (status.st_dev, status.st_ino) != own:
                return  # another gunicorn's socket now: it goes when that one stops
            del self.own_files[path]
        os.unlink(path, *args, **kwargs)


def keep_a_successors_control_socket() -> None:
    try:
        from gunicorn.ctl import server
    except ImportError:  # gunicorn before 25.1: no control socket
        return
    server.os = UnlinksOnlyItsOwnSocket()
