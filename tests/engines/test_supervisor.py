"""The exported supervisord programs, run by supervisord as root with `user=` (--run-as).

supervisord switches to the user but keeps its own environment: HOME is root's, and a
supervisord that systemd starts has no XDG_RUNTIME_DIR. The machine is the example's
image with supervisor installed, supervisord its PID 1 as root (as Debian's package runs
it), the exported file in /etc/supervisor/conf.d: web serves as the image's user, its log
has no error line, and supervisord stops it with status 0 within stopwaitsecs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engines.dockerd import Docker
from tests.engines.test_dockerfile import ERROR, wait_until_serving
from tests.support import Project, export_files

IMAGE = "example-supervisor:latest"
CONTAINER = "example-supervisor"
USER = "app"
# As a host that runs supervisord from systemd: root, no XDG_RUNTIME_DIR.
CONTAINERFILE = """\
FROM {example}
USER root
RUN pip install --no-cache-dir "supervisor>=4.2"
ENV XDG_RUNTIME_DIR=
COPY supervisord.conf /etc/supervisor/supervisord.conf
COPY conf.d/ /etc/supervisor/conf.d/
STOPSIGNAL SIGTERM
CMD ["supervisord", "--nodaemon", "--configuration=/etc/supervisor/supervisord.conf"]
"""
SUPERVISORD_CONF = """\
[supervisord]
user=root
logfile=/dev/null
logfile_maxbytes=0
pidfile=/run/supervisord.pid

[include]
files = /etc/supervisor/conf.d/*.conf
"""


@pytest.fixture
def supervisord(
    docker: Docker, example_image: str, example_project: Project, web_port: int, tmp_path: Path
) -> Iterator[str]:
    export_files(
        example_project, "supervisor", tmp_path / "conf.d", "web", "--project=example",
        f"--run-as={USER}", "--python=python", "--working-directory=/app",
    )  # fmt: skip
    # Each program's output to supervisord's, which `docker logs` shows.
    for conf in (tmp_path / "conf.d").glob("*.conf"):
        conf.write_text(
            conf.read_text().replace(
                "redirect_stderr=true",
                "redirect_stderr=true\nstdout_logfile=/dev/stdout\nstdout_logfile_maxbytes=0",
            )
        )
    (tmp_path / "supervisord.conf").write_text(SUPERVISORD_CONF)
    (tmp_path / "Dockerfile").write_text(CONTAINERFILE.format(example=example_image))
    docker("build", "--quiet", f"--tag={IMAGE}", str(tmp_path))
    docker("run", "--detach", f"--name={CONTAINER}",
           f"--publish=127.0.0.1:{web_port}:{web_port}", IMAGE)  # fmt: skip
    try:
        yield CONTAINER
    finally:
        docker("rm", "--force", CONTAINER, check=False)


def test_supervisord_runs_web_as_its_user(docker, supervisord, web_port):
    wait_until_serving(docker, supervisord, web_port)
    # gunicorn's control socket, in a folder its user can write (never root's HOME).
    deadline = time.monotonic() + 30
    while "Control socket listening at" not in (logs := docker("logs", supervisord)).stdout:
        assert time.monotonic() < deadline, logs.stdout + logs.stderr
        time.sleep(0.2)
    # gunicorn's master and workers run as the user, supervisord as root.
    processes = docker("top", supervisord, "-o", "pid,user,args").stdout
    assert [line for line in processes.splitlines() if "gunicorn" in line or "prodserver" in line]
    for line in processes.splitlines()[1:]:
        if "supervisord" not in line:
            assert line.split()[1] in (USER, "10001"), processes
    started = time.monotonic()
    docker("stop", "--time=60", supervisord, timeout=120)
    seconds = time.monotonic() - started
    state = docker.inspect(supervisord)["State"]
    logs = docker("logs", supervisord)
    log = logs.stdout + logs.stderr
    assert state["ExitCode"] == 0, log
    assert "Listening at:" in log, log
    assert "Shutting down: Master" in log, log
    assert not ERROR.search(log), log
    assert seconds < 35, (seconds, log)
