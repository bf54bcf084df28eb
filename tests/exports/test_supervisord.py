"""supervisord runs the exported programs: the web process answers, and stops cleanly."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support import Running, export_files

pytestmark = pytest.mark.server


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


def test_supervisord_runs_the_programs(make_project, port, started, tmp_path):
    project = make_project(
        {
            "web.50-off": {
                "BACKEND": "django_prodserver.backends.waitress.WaitressServer",
                "ARGS": {"listen": f"127.0.0.1:{port}"},
                "ENV": {"GREETING": "50% off;#1", "API_TOKEN": "t0ken"},
            }
        }
    )
    [programs] = export_files(project, "supervisor", tmp_path / "conf.d", "--project=shop")
    assert "t0ken" not in programs.read_text()
    config = tmp_path / "supervisord.conf"
    config.write_text(
        textwrap.dedent(
            f"""\
            [supervisord]
            nodaemon=true
            logfile={tmp_path}/supervisord.log
            pidfile={tmp_path}/supervisord.pid
            childlogdir={tmp_path}

            [unix_http_server]
            file={tmp_path}/supervisor.sock

            [rpcinterface:supervisor]
            supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

            [supervisorctl]
            serverurl=unix://{tmp_path}/supervisor.sock

            [include]
            files = conf.d/*.conf
            """
        )
    )
    log = tmp_path / "output.log"
    with log.open("w") as output:
        popen = subprocess.Popen(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)],
            env=project.env({"API_TOKEN": "t0ken"}),  # the secret comes from here
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    supervisord = Running(popen, log)
    started.append(supervisord)
    supervisord.wait_until_serving(f"127.0.0.1:{port}")
    status = wait_for_status(config, "RUNNING")
    assert status.startswith("shop:shop-web.50-off "), status
    code, _ = supervisord.stop(timeout=60)
    assert code == 0, supervisord.output
    assert supervisord.wait_for_no_process_left() == []
    program_log = next(tmp_path.glob("shop-web.50-off-stdout*.log")).read_text()
    assert "no longer accepting connections" in program_log  # the server's graceful stop
