"""The exported compose.yaml, run by docker-compose: the example deployed with PostgreSQL
and Redis, as docs/deploy-compose.md does it.

The project keeps its own Dockerfile (`--export dockerfile --output docker`, named with
`--dockerfile`) and installs requirements/production.txt, which includes base.txt. Its
release step migrates PostgreSQL before web, the Celery worker and beat start; web and
the worker become healthy; a task sent through web runs on the worker, so do beat's;
`docker-compose stop` ends every service with status 0 within its stop_grace_period.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.engines import images
from tests.engines.dockerd import Docker
from tests.engines.projects import example_context
from tests.support import Project, export_files, free_port, get

PASSWORD = "compose-test-password"
LOG = "/tmp/celery-log.txt"
SERVICES = ("migrate", "web", "worker", "beat")
# What a user adds beside the exported file: the database and the broker, and that the
# release step waits for the database, the workers for the broker.
BACKING_SERVICES = f"""\
services:
  db:
    image: postgres:17
    environment:
      POSTGRES_USER: example
      POSTGRES_DB: example
      POSTGRES_PASSWORD: {PASSWORD}
    healthcheck:
      test: ["CMD", "pg_isready", "--host=127.0.0.1", "--username=example"]
      interval: 1s
      retries: 60
  redis:
    image: redis:8
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
      retries: 60
  migrate:
    depends_on:
      db:
        condition: service_healthy
  worker:
    depends_on:
      redis:
        condition: service_healthy
  beat:
    depends_on:
      redis:
        condition: service_healthy
"""


def shop_settings(port: int) -> str:
    return f"""
STACK = {{
    "EXAMPLE_POSTGRES_HOST": "db",
    "EXAMPLE_POSTGRES_PASSWORD": "{PASSWORD}",
    "EXAMPLE_REDIS_URL": "redis://redis:6379/0",
    "EXAMPLE_CELERY_LOG": "{LOG}",
    "EXAMPLE_BEAT_EFFECTS": "{LOG}",
    "EXAMPLE_BEAT_SECONDS": "2",
}}
PRODUCTION_PROCESSES = {{
    "migrate": {{
        "BACKEND": "django_prodserver.backends.release.ReleaseCommand",
        "ARGS": ["migrate", "--noinput"],
        "ENV": STACK,
    }},
    "web": {{
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {{"bind": "0.0.0.0:{port}", "workers": 2, "accesslog": "-"}},
        "ENV": STACK,
    }},
    "worker": {{
        "BACKEND": "django_prodserver.backends.celery.CeleryWorker",
        "APP": "exampleproject.celery.app",
        "ARGS": {{"loglevel": "info", "concurrency": 1}},
        "ENV": STACK,
    }},
    "beat": {{
        "BACKEND": "django_prodserver.backends.celery.CeleryBeat",
        "APP": "exampleproject.celery.app",
        "ARGS": {{"loglevel": "info"}},
        "ENV": STACK,
    }},
}}
"""


def shop_project(folder: Path, wheel: Path, port: int) -> Project:
    """The example with requirements/production.txt (and base.txt), no requirements.txt."""
    project = example_context(folder, wheel, shop_settings(port))
    (folder / "requirements.txt").unlink()
    requirements = folder / "requirements" / "base.txt"
    requirements.parent.mkdir()
    requirements.write_text(f"./wheels/{wheel.name}[celery]\npsycopg[binary]>=3.1\n")
    (folder / "requirements" / "production.txt").write_text("-r base.txt\ngunicorn>=23.0\n")
    (folder / ".env").write_text(f"EXAMPLE_POSTGRES_PASSWORD={PASSWORD}\n")
    (folder / "services.yaml").write_text(BACKING_SERVICES)
    return project


@dataclass
class Stack:
    docker: Docker
    folder: Path
    port: int

    def compose(self, *args: str, timeout: float = 600) -> str:
        argv = ["docker-compose", "--project-name=shop", "--file=compose.yaml",
                "--file=services.yaml", *args]  # fmt: skip
        result = self.docker.run_in(self.folder, argv, timeout=timeout)
        return result.stdout + result.stderr

    def container(self, service: str) -> str:
        return self.compose("ps", "--quiet", service).strip().splitlines()[-1]

    def state(self, service: str) -> dict[str, object]:
        return dict(self.docker.inspect(self.container(service))["State"])

    def read(self, service: str, path: str) -> str:
        result = self.docker("exec", self.container(service), "cat", path, check=False)
        return result.stdout


@pytest.fixture
def stack(docker: Docker, python_image: str, wheel: Path, tmp_path: Path) -> Iterator[Stack]:
    images.ensure(docker, images.postgres())
    images.ensure(docker, images.redis())
    port = free_port()
    project = shop_project(tmp_path / "shop", wheel, port)
    export_files(project, "dockerfile", project.directory / "docker")
    export_files(
        project, "compose", project.directory, "--project=shop", "--dockerfile=docker/Dockerfile"
    )
    stack = Stack(docker, project.directory, port)
    try:
        yield stack
    finally:
        stack.compose("down", "--volumes", "--timeout=5", timeout=300)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s")
        time.sleep(0.5)


def test_the_stack_deploys_runs_tasks_and_stops(stack):
    dockerfile = (stack.folder / "docker" / "Dockerfile").read_text()
    assert "COPY requirements/production.txt requirements/base.txt requirements/\n" in dockerfile
    assert "RUN pip install --no-cache-dir -r requirements/production.txt\n" in dockerfile
    started = time.monotonic()
    output = stack.compose("up", "--detach", "--build", timeout=900)
    migrate = stack.state("migrate")
    assert migrate["ExitCode"] == 0, stack.compose("logs", "migrate")
    # The release step finished before the processes started.
    for service in ("web", "worker", "beat"):
        assert str(stack.state(service)["StartedAt"]) > str(migrate["FinishedAt"]), output
    for service in ("web", "worker"):
        stack.docker.wait_until_healthy(stack.container(service), timeout=120)
    healthy_after = time.monotonic() - started

    status, body = get(f"127.0.0.1:{stack.port}", "/celery/?add=sent-through-web")
    assert status == 200, body
    wait_for(lambda: "sent-through-web\n" in stack.read("worker", LOG), "the task's line")
    wait_for(lambda: "beat\n" in stack.read("worker", LOG), "beat's task's line")
    # beat keeps its schedule in its state volume, the image's STATE_DIRECTORY.
    schedule = stack.docker("exec", stack.container("beat"), "ls", "/var/lib/app").stdout
    assert "celerybeat-schedule" in schedule

    # Each service as the file hardens it: read-only, no capability, no privilege to gain,
    # the image's non-root user; and it wrote nothing in its container's file system
    # (its /tmp is a tmpfs, beat's state a volume).
    for service in ("migrate", "web", "worker", "beat"):
        container = stack.docker.inspect(stack.container(service))
        host = container["HostConfig"]
        assert host["ReadonlyRootfs"] is True, service
        assert host["CapDrop"] == ["ALL"], service
        assert "no-new-privileges:true" in host["SecurityOpt"], service
        assert "/tmp" in host["Tmpfs"], service
        assert container["Config"]["User"] == "10001", service  # the image's own
        if service != "migrate":  # exited: no /proc/1 to read
            status = stack.docker("exec", stack.container(service), "cat", "/proc/1/status")
            fields = dict(line.split(":", 1) for line in status.stdout.splitlines() if ":" in line)
            assert fields["CapEff"].strip() == "0" * 16, (service, status.stdout)
            assert fields["NoNewPrivs"].strip() == "1", (service, status.stdout)
        assert stack.docker.written(stack.container(service)) == [], service
    uid = stack.docker("exec", stack.container("web"), "id", "-u").stdout.strip()
    assert uid == "10001"

    stopping = time.monotonic()
    stack.compose("stop", timeout=300)
    stopped_after = time.monotonic() - stopping
    for service in ("web", "worker", "beat"):
        state = stack.state(service)
        assert state["ExitCode"] == 0, stack.compose("logs", service)
    # Within the longest stop_grace_period (web's 35 s): none was killed.
    assert stopped_after < 35, stopped_after
    logs = stack.compose("logs", "--no-color", "web", "worker", "beat")
    assert "Traceback" not in logs, logs
    assert "[ERROR]" not in logs, logs
    print(f"compose: up to healthy {healthy_after:.1f} s, stop {stopped_after:.1f} s")
