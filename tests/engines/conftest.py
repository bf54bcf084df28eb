"""The engine tier's session: one dockerd, one podman store, the images, the example image.

Everything here runs once per session (`scripts/test` runs the tier once, as root): the
engines' stores are kept between runs under the cache folder, one session at a time.
"""

from __future__ import annotations

import fcntl
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines import images
from tests.engines.dockerd import Docker, running_dockerd
from tests.engines.host import restored_host
from tests.engines.podman import Podman, podman_store
from tests.engines.projects import checkout_wheel, example_context
from tests.support import Project, export_files, free_port

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "django-prodserver"
ENGINES = CACHE / "engines"
# podman's store remembers where its run state was: the same place every session.
PODMAN_STATE = Path("/run/prodserver-engines/podman")
EXAMPLE_IMAGE = "example:latest"
REDIS_URL = "redis://redis:6379/0"
# Pods share no file system, and a read-only root leaves them /tmp: SQLite there (a real
# cluster has a database server; the release step then migrates it).
KUBERNETES_SETTINGS = "kubernetes_settings"
KUBERNETES_SETTINGS_CODE = """\
from engine_settings import *  # noqa: F403

for definition in PRODUCTION_PROCESSES.values():  # noqa: F405
    definition["ENV"] = {**definition.get("ENV", {}), "EXAMPLE_DATABASE": "/tmp/db.sqlite3"}
"""


# Images are made and built in the first test that needs them (the suite's default is 120 s).
TIMEOUT = 1200


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.timeout(TIMEOUT))
            item.add_marker(pytest.mark.engine)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if images.ORIGINS:
        terminalreporter.section("engine images")
        for line in images.ORIGINS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def engine_state() -> Iterator[Path]:
    """The session's run state (short: unix socket paths), one session at a time; the host
    as it was once the session's engines have stopped."""
    ENGINES.mkdir(parents=True, exist_ok=True)
    with (ENGINES / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with restored_host(), tempfile.TemporaryDirectory(prefix="pse-") as state:
            yield Path(state)


@pytest.fixture(scope="session")
def docker(engine_state: Path) -> Iterator[Docker]:
    (engine_state / "docker").mkdir()
    with running_dockerd(ENGINES / "docker", engine_state / "docker") as running:
        yield running


@pytest.fixture(scope="session")
def podman(engine_state: Path, docker: Docker) -> Iterator[Podman]:
    with podman_store(ENGINES / "podman", PODMAN_STATE) as store:
        yield store


@pytest.fixture(scope="session")
def python_image(docker: Docker) -> str:
    """`python:X.Y-slim` for the Python that runs the exports (the one the Dockerfile names)."""
    return images.ensure(docker, images.python_slim(f"{sys.version_info[0]}.{sys.version_info[1]}"))


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return checkout_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def web_port() -> int:
    return free_port()


def example_settings(port: int) -> str:
    """The example's processes as the engine tests deploy them (one image serves them all)."""
    return f"""
PRODUCTION_PROCESSES = {{
    "migrate": {{
        "BACKEND": "django_prodserver.backends.release.ReleaseCommand",
        "ARGS": ["migrate", "--noinput"],
    }},
    "web": {{
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {{"bind": "0.0.0.0:{port}", "workers": 2, "accesslog": "-"}},
        "HEALTH": {{"PATH": "/healthz/"}},
    }},
    "worker": {{
        "BACKEND": "django_prodserver.backends.celery.CeleryWorker",
        "APP": "exampleproject.celery.app",
        "ARGS": {{"loglevel": "info", "concurrency": 1}},
        "ENV": {{"EXAMPLE_REDIS_URL": "{REDIS_URL}"}},
    }},
}}
"""


@pytest.fixture(scope="session")
def example_project(
    tmp_path_factory: pytest.TempPathFactory, wheel: Path, web_port: int
) -> Project:
    project = example_context(
        tmp_path_factory.mktemp("example") / "example", wheel, example_settings(web_port)
    )
    (project.directory / f"{KUBERNETES_SETTINGS}.py").write_text(KUBERNETES_SETTINGS_CODE)
    return project


@pytest.fixture(scope="session")
def example_dockerfile(example_project: Project) -> Path:
    """`prodserver --export dockerfile web` of the example, beside its manage.py."""
    [dockerfile] = export_files(example_project, "dockerfile", example_project.directory, "web")
    return dockerfile


@pytest.fixture(scope="session")
def example_image(
    docker: Docker, python_image: str, example_project: Project, example_dockerfile: Path
) -> str:
    """The image built from the exported Dockerfile: one build, for every engine."""
    docker("build", "--quiet", f"--tag={EXAMPLE_IMAGE}", str(example_project.directory))
    return EXAMPLE_IMAGE
