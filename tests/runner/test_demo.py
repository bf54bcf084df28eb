"""What `scripts/demo` runs: the example project's `prodserver web tasks`, as it is."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support import Project, Running, free_port, get

pytestmark = pytest.mark.server
pytest.importorskip("django_tasks_db")


def test_the_demo_serves_pages_and_runs_the_tasks_they_enqueue(
    tmp_path: Path, started: list[Running]
) -> None:
    address = f"127.0.0.1:{free_port()}"
    project = Project(tmp_path, module="exampleproject.settings")
    env = {"EXAMPLE_BIND": address, "EXAMPLE_TASK_LOG": str(tmp_path / "task-log.txt")}
    assert project.manage("migrate", "-v", "0", env=env).returncode == 0
    running = project.start("prodserver", "web", "tasks", env=env)
    started.append(running)
    running.wait_until_serving(address)

    status, body = get(address, "/tasks/?add=hello")
    assert (status, body.splitlines()[0]) == (200, "Enqueued: hello")
    deadline = time.monotonic() + 30
    while "hello" not in get(address, "/tasks/")[1]:
        assert time.monotonic() < deadline, running.output
        time.sleep(0.1)

    code, _ = running.stop()
    assert code == 0, running.output
    assert running.wait_for_no_process_left() == []
    assert "tasks exited with status 0" in running.output, running.output
