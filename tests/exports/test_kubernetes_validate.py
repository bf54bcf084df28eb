"""`kubernetes-validate` accepts the exported manifests, strictly (no unknown field)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import export_files

pytestmark = pytest.mark.server
VALIDATE = Path(sys.executable).parent / "kubernetes-validate"
PROCESSES = {
    "web": {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {"bind": "0.0.0.0:8000"},
        "ENV": {"GREETING": "$(HOME) costs 50%", "DATABASE_URL": "postgres://u:pw@db/app"},
    },
    "asgi": {
        "BACKEND": "django_prodserver.backends.uvicorn.UvicornServer",
        "ARGS": {"uds": "/run/app/asgi.sock"},
    },
    "api": {
        "BACKEND": "django_prodserver.backends.uvicorn.UvicornServer",
        "ARGS": {"host": "0.0.0.0", "port": 8001},
        "HEALTH": {"PATH": "/healthz/", "HOST": "api.example.com", "STATUS": 204},
    },
    "Worker_1": {"BACKEND": "tests.unit.backends.custom.EchoBackend", "STOP_SIGNAL": "SIGQUIT"},
}


def validate(manifest: Path, version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VALIDATE), "--strict", "--kubernetes-version", version, str(manifest)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
def test_kubernetes_validate_accepts_the_manifests(make_project, tmp_path, version):
    project = make_project(PROCESSES)
    [manifest] = export_files(
        project, "kubernetes", tmp_path, "--replicas=web=3", "--run-as=1000", "--image=app:1"
    )
    result = validate(manifest, version)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = [line for line in result.stdout.splitlines() if " passed for resource " in line]
    assert len(passed) == 6, result.stdout  # four Deployments, the Services of web and api

    # The check can fail: a field Kubernetes does not have is reported.
    manifest.write_text(manifest.read_text().replace("periodSeconds:", "periodSecs:", 1))
    assert validate(manifest, version).returncode != 0
