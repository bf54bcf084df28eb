"""`systemd-analyze verify` accepts the exported units (and rejects a broken one)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import export_files

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze"),
]
PROCESSES = {
    "web": {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {"bind": "0.0.0.0:8000"},
        "ENV": {"GREETING": '50% off "now" $HOME', "SECRET_KEY": "x"},
        "STOP_SIGNAL": "SIGINT",
    },
    "night_job.v2": {
        "BACKEND": "django_prodserver.backends.waitress.WaitressServer",
        "RESTART": "always",
    },
}


def verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", "--recursive-errors=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        # The target and the services find each other in their folder, then the usual places.
        env={**os.environ, "SYSTEMD_UNIT_PATH": f"{units[0].parent}:"},
    )


def test_systemd_analyze_accepts_the_units(make_project, tmp_path):
    project = make_project(PROCESSES)
    units = export_files(project, "systemd", tmp_path / "units", "--run-as=root")
    assert [unit.name for unit in units] == [
        "example-web.service",
        "example-night_job.v2.service",
        "example.target",
    ]
    result = verify(units)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    # The check can fail: a setting systemd cannot parse is reported.
    broken = units[0].read_text().replace("KillMode=mixed", "KillMode=gently")
    units[0].write_text(broken)
    result = verify(units)
    assert result.returncode != 0
    assert "Failed to parse kill mode specification" in result.stderr
