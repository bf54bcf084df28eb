"""The Dockerfile export installs what the project declares, each way built for real.

requirements.txt is the example's (test_dockerfile), requirements/production.txt the
Compose stack's (test_compose). Here: a file named with --requirements, and pyproject.toml
with uv.lock (`uv sync --frozen`). Each image must serve `web` with this checkout's
package, which its dependency file installs from a wheel in the project.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.engines import images
from tests.engines.dockerd import Docker, run
from tests.engines.projects import example_context, wheel_version
from tests.support import Project, export_files

SETTINGS = """
PRODUCTION_PROCESSES = {
    "web": {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {"bind": "0.0.0.0:8000", "workers": 1},
    },
}
"""
PYPROJECT = """\
[project]
name = "example"
version = "1.0"
requires-python = ">={python}"
dependencies = ["django-prodserver[gunicorn]"]

[tool.uv.sources]
django-prodserver = {{ path = "wheels/{wheel}" }}
"""


def uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.is_file() else shutil.which("uv")
    assert found, "uv is not installed: pip install uv (the test extra has it)"
    return found


def uv_image(docker: Docker) -> str:
    """ghcr.io/astral-sh/uv:VERSION, as the Dockerfile names it, from this machine's uv."""
    version = run([uv(), "--version"]).stdout.split()[1]
    return images.ensure_uv(docker, version, Path(uv()))


def build_and_serve(docker: Docker, project: Project, name: str, *flags: str) -> str:
    """The Dockerfile exported with `flags`, built, and what `/` answers in a container."""
    [dockerfile] = export_files(project, "dockerfile", project.directory, "web", *flags)
    docker("build", "--quiet", f"--tag={name}", str(project.directory))
    served = docker(
        "run", "--rm", name, "python", "-c",
        "import django_prodserver, django; print(django_prodserver.__version__, django.VERSION[0])",
    )  # fmt: skip
    return dockerfile.read_text() + served.stdout


def test_a_requirements_file_given_by_path(docker, python_image, wheel, tmp_path):
    project = example_context(tmp_path / "given", wheel, SETTINGS)
    (project.directory / "requirements.txt").unlink()
    (project.directory / "deploy").mkdir()
    (project.directory / "deploy" / "web.txt").write_text(f"./wheels/{wheel.name}[gunicorn]\n")
    text = build_and_serve(docker, project, "given:latest", "--requirements=deploy/web.txt")
    assert f"COPY deploy/web.txt deploy/\nCOPY wheels/{wheel.name} wheels/\n" in text
    assert "RUN pip install --no-cache-dir -r deploy/web.txt\n" in text
    assert text.splitlines()[-1].startswith(f"{wheel_version(wheel)} ")  # this checkout's


def test_pyproject_with_uv_lock(docker, python_image, wheel, tmp_path):
    project = example_context(tmp_path / "locked", wheel, SETTINGS)
    (project.directory / "requirements.txt").unlink()
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    (project.directory / "pyproject.toml").write_text(
        PYPROJECT.format(python=version, wheel=wheel.name)
    )
    run([uv(), "lock", f"--directory={project.directory}", f"--python={sys.executable}",
         "--no-python-downloads", "--quiet"], timeout=300)  # fmt: skip
    image = uv_image(docker)
    text = build_and_serve(docker, project, "locked:latest")
    assert f"COPY --from={image} /uv /uvx /bin/\n" in text
    assert "COPY pyproject.toml uv.lock ./\n" in text
    assert "RUN uv sync --frozen --no-dev --no-install-project --no-install-local\n" in text
    assert text.splitlines()[-1].startswith(f"{wheel_version(wheel)} ")
