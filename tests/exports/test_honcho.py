"""honcho runs the exported Procfile: the web process answers, and stops with honcho."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from tests.support import EXAMPLE, export_files, start_command

pytestmark = pytest.mark.server
HONCHO = Path(sys.executable).parent / "honcho"


def test_honcho_runs_the_procfile(make_project, port, started, tmp_path):
    # A value that needs quoting in the shell line, and a secret that must stay out of it.
    project = make_project(
        {
            "web.v2": {
                "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
                "ARGS": {"bind": f"127.0.0.1:{port}", "workers": 1},
                "ENV": {"GREETING": "it's $HOME", "API_TOKEN": "t0ken"},
            }
        }
    )
    [procfile] = export_files(project, "procfile", tmp_path / "out", f"--python={sys.executable}")
    text = procfile.read_text()
    assert "web-v2: GREETING='it'\"'\"'s $HOME' " in text
    assert "t0ken" not in text
    # From where manage.py is, as a Procfile expects.
    honcho = start_command(
        [str(HONCHO), "start", "-f", str(procfile), "--no-prefix"],
        EXAMPLE,
        project.env({"API_TOKEN": "t0ken"}),
        tmp_path / "honcho.log",
    )
    started.append(honcho)
    honcho.wait_until_serving(f"127.0.0.1:{port}")
    code, _ = honcho.stop(signal.SIGTERM, timeout=60)
    # honcho itself exits 128 + 15 when stopped by SIGTERM; the server stopped cleanly,
    # as the same process that honcho started (the line's `exec`).
    assert code == 143, honcho.output
    assert "web-v2.1 stopped (rc=0)" in honcho.output
    assert honcho.wait_for_no_process_left() == []
