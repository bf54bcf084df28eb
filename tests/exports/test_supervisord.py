"""supervisord runs the exported programs: the web process answers, and stops cleanly."""

from __future__ import annotations

import pytest

from tests.exports.supervisord import start_supervisord, wait_for_status
from tests.support import export_files

pytestmark = pytest.mark.server


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
    # The secret comes from supervisord's own environment.
    supervisord, config = start_supervisord(tmp_path, project.env({"API_TOKEN": "t0ken"}))
    started.append(supervisord)
    supervisord.wait_until_serving(f"127.0.0.1:{port}")
    status = wait_for_status(config, "RUNNING")
    assert status.startswith("shop:shop-web.50-off "), status
    code, _ = supervisord.stop(timeout=60)
    assert code == 0, supervisord.output
    assert supervisord.wait_for_no_process_left() == []
    program_log = next(tmp_path.glob("shop-web.50-off-stdout*.log")).read_text()
    assert "no longer accepting connections" in program_log  # the server's graceful stop
