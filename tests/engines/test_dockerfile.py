"""The exported Dockerfile, built and run by Docker: the example's `web` as a user gets it.

The image builds (this checkout's package from the example's requirements.txt), runs as
its own non-root user, serves with no error in its log, also on a read-only root with a
tmpfs on /tmp, becomes healthy by its HEALTHCHECK, and `docker stop` ends it with status
0 within its stop timeout.
"""

from __future__ import annotations

import re
import time

from django_prodserver.exports.deployment import STOP_MARGIN
from tests.engines.dockerd import Docker
from tests.support import get

# gunicorn's and Python's ways of saying something went wrong.
ERROR = re.compile(r"\[ERROR\]|\[CRITICAL\]|Traceback|Error:")
# Where the processes may write in the image: the runtime folder the image names.
WRITABLE = ("/tmp",)


# web's stop timeout, as the Compose and Kubernetes exports give it: gunicorn's graceful
# timeout (30 s) and the exports' margin.
STOP_TIMEOUT = 30 + STOP_MARGIN


def run_web(docker: Docker, image: str, port: int, name: str, *options: str) -> str:
    docker(
        "run", "--detach", f"--name={name}", f"--publish=127.0.0.1:{port}:{port}", *options, image
    )
    return name


def wait_until_serving(docker: Docker, container: str, port: int, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            status, body = get(f"127.0.0.1:{port}", "/", timeout=5)
            if status == 200:
                return body
        except OSError:
            pass
        if time.monotonic() > deadline or not docker.inspect(container)["State"]["Running"]:
            logs = docker("logs", container, check=False)
            raise AssertionError(f"{container} does not serve:\n{logs.stdout}{logs.stderr}")
        time.sleep(0.2)


def stop(docker: Docker, container: str) -> tuple[int, float, str]:
    """`docker stop` with the process's stop timeout: exit status, seconds, the log."""
    started = time.monotonic()
    docker("stop", f"--time={STOP_TIMEOUT:.0f}", container, timeout=120)
    seconds = time.monotonic() - started
    state = docker.inspect(container)["State"]
    logs = docker("logs", container)
    return state["ExitCode"], seconds, logs.stdout + logs.stderr


def test_the_image_serves_as_its_user_and_stops_cleanly(docker, example_image, web_port):
    image = docker.inspect(example_image)
    assert image["Config"]["User"] == "10001"
    container = run_web(docker, example_image, web_port, "dockerfile-web")
    body = wait_until_serving(docker, container, web_port)
    assert body == "Hello from django-prodserver's example project.\n"
    # The server runs as the image's user, not root.
    assert docker("exec", container, "id", "-u").stdout.strip() == "10001"
    healthy_after = docker.wait_until_healthy(container, timeout=90)
    assert healthy_after < 90
    written = docker.written(container)
    code, seconds, log = stop(docker, container)
    assert code == 0, log
    assert seconds < STOP_TIMEOUT, log
    assert "Listening at:" in log, log
    assert "Shutting down: Master" in log, log
    assert not ERROR.search(log), log
    outside = [line for line in written if not line.split()[-1].startswith(WRITABLE)]
    assert outside == [], written


def test_the_image_serves_with_a_read_only_root(docker, example_image, web_port):
    container = run_web(
        docker, example_image, web_port, "dockerfile-web-read-only", "--read-only", "--tmpfs=/tmp"
    )
    wait_until_serving(docker, container, web_port)
    code, _, log = stop(docker, container)
    assert code == 0, log
    assert not ERROR.search(log), log
