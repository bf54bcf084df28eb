"""Running supervisord on an exported configuration, as the engine tests need it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from tests.support import Running, start_command

# The main configuration: the exported programs are included from conf.d/ beside it.
SUPERVISORD_CONF = """\
[supervisord]
nodaemon=true
logfile={dir}/supervisord.log
pidfile={dir}/supervisord.pid
childlogdir={dir}

[unix_http_server]
file={dir}/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{dir}/supervisor.sock

[include]
files = conf.d/*.conf
"""


def start_supervisord(folder: Path, env: Mapping[str, str]) -> tuple[Running, Path]:
    """supervisord on the programs of `folder`/conf.d; it and its configuration file."""
    config = folder / "supervisord.conf"
    config.write_text(SUPERVISORD_CONF.format(dir=folder))
    argv = [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)]
    return start_command(argv, folder, env, folder / "output.log"), config


def wait_for_status(config: Path, state: str, timeout: float = 30, program: str = "") -> str:
    """`supervisorctl status` once it shows `state` (a program is STARTING for a second).

    With `program`, once that program's line shows it.
    """
    deadline = time.monotonic() + timeout
    while True:
        status = subprocess.run(
            [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(config), "status"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        lines = [line for line in status.splitlines() if line.split()[:1] == [program]]
        shown = "\n".join(lines) if program else status
        if f" {state} " in f"{shown} " or time.monotonic() > deadline:
            return status
        time.sleep(0.2)
