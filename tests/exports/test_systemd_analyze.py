"""`systemd-analyze verify` accepts the exported units (and rejects a broken one)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import EXAMPLE, PACKAGE_FOLDER, REPO, export_files

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
    units = export_files(project, "systemd", tmp_path / "units")
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


# Every kind of unit: web on a high port and on port 80, a release step, workers, Celery
# beat (state), with a user of its own, a given user, and a project in a home folder.
SANDBOXED = {
    "migrate": {
        "BACKEND": "django_prodserver.backends.release.ReleaseCommand",
        "ARGS": ["migrate", "--noinput"],
    },
    "web": {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {"bind": "0.0.0.0:8000"},
    },
    "www": {
        "BACKEND": "django_prodserver.backends.waitress.WaitressServer",
        "ARGS": {"listen": "0.0.0.0:80"},
    },
    "worker": {"BACKEND": "tests.unit.backends.custom.EchoBackend"},
}
# The bound: systemd-analyze's "OK" band starts at 2.0 and below.
HIGHEST_EXPOSURE = 2.0
EXPOSURE = re.compile(r"Overall exposure level for (?P<unit>\S+): (?P<score>[0-9.]+) ")


def exposure(units: list[Path]) -> dict[str, float]:
    """`systemd-analyze security --offline=true`'s overall exposure of every service."""
    scores = {}
    for unit in units:
        if unit.suffix != ".service":
            continue
        result = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", "--no-pager", str(unit)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        found = EXPOSURE.search(result.stdout)
        assert found, result.stdout + result.stderr
        scores[found["unit"]] = float(found["score"])
    return scores


@pytest.mark.parametrize(
    "flags",
    [
        (),
        ("--run-as=www-data",),
        ("--run-as=www-data", "--working-directory=/home/deploy/app",
         "--python=/home/deploy/app/.venv/bin/python"),
    ],
    ids=["dynamic user", "given user", "in a home folder"],
)  # fmt: skip
def test_every_unit_scores_ok_in_systemd_analyze_security(make_project, tmp_path, flags):
    project = make_project(SANDBOXED)
    units = export_files(project, "systemd", tmp_path / "units", *flags)
    scores = exposure(units)
    assert len(scores) == 4, scores
    assert all(score <= HIGHEST_EXPOSURE for score in scores.values()), scores
    if not any(flag.startswith("--python=") for flag in flags):  # no such Python here
        assert verify(units).stderr == ""

    # The score can fail the bound: without the sandbox, systemd rates them unsafe.
    unconfined = export_files(project, "systemd", tmp_path / "off", "--sandbox=off", *flags)
    assert all(score > 9 for score in exposure(unconfined).values())


# --socket-activation: a .socket unit per web process whose server takes a socket.
SOCKET_ACTIVATED = {
    "web": {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {"bind": "0.0.0.0:80", "backlog": 512},
    },
    "api": {
        "BACKEND": "django_prodserver.backends.waitress.WaitressServer",
        "ARGS": {"unix_socket": "/run/example-api/api.sock", "unix_socket_perms": "660"},
    },
    "fast": {"BACKEND": "django_prodserver.backends.granian.GranianWSGIServer"},
    "worker": {"BACKEND": "tests.unit.backends.custom.EchoBackend"},
}


def test_socket_activation_writes_a_socket_unit_per_web_process(make_project, tmp_path):
    project = make_project(SOCKET_ACTIVATED)
    output = tmp_path / "units"
    path = os.pathsep.join(map(str, [project.directory, EXAMPLE, REPO, PACKAGE_FOLDER]))
    result = project.manage(
        "prodserver", "--export", "systemd", "--socket-activation", f"--output={output}",
        env={"PYTHONPATH": path},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    units = sorted(output.iterdir())
    names = [unit.name for unit in units]
    assert "example-web.socket" in names
    assert "example-api.socket" in names
    # granian binds its own socket: no .socket unit, and the output says why.
    assert "example-fast.socket" not in names
    assert "Process 'fast' gets no .socket unit: granian cannot serve on a socket" in (
        result.stderr
    )
    assert "`systemctl reload` (its ExecReload) loads new code without that gap." in (result.stderr)
    assert "example-worker.socket" not in names

    web_socket = (output / "example-web.socket").read_text()
    assert "ListenStream=0.0.0.0:80\n" in web_socket
    assert "Backlog=512\n" in web_socket
    assert "Service=example-web.service\n" in web_socket
    assert "SocketMode" not in web_socket  # a TCP socket has no file mode
    api_socket = (output / "example-api.socket").read_text()
    assert "ListenStream=/run/example-api/api.sock\n" in api_socket
    assert "SocketMode=0660\n" in api_socket
    web_service = (output / "example-web.service").read_text()
    assert "Requires=example-web.socket\nAfter=example-web.socket\n" in web_service
    # Port 80, bound by systemd: the service needs no capability to bind it.
    assert "CAP_NET_BIND_SERVICE" not in web_service
    assert "CapabilityBoundingSet=\n" in web_service
    # granian's nearest way to a restart that refuses nothing: systemctl reload.
    assert "ExecReload=" not in web_service
    fast_service = (output / "example-fast.service").read_text()
    assert "\nExecReload=/bin/kill -s HUP $MAINPID\n" in fast_service

    result = verify(units)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    scores = exposure(units)
    assert all(score <= HIGHEST_EXPOSURE for score in scores.values()), scores

    # The check can fail: a socket unit systemd cannot read is reported.
    (output / "example-web.socket").write_text(web_socket.replace("Backlog=512", "Backlog=many"))
    assert verify(units).returncode != 0
