"""A `dockerd` of the test session's own: its own socket, state and image store.

Its data root is kept between runs (the image cache: base images, the layers of earlier
builds); what a session starts in it (containers, networks, volumes) is removed before it
stops (tests/engines/host.py puts back what it changes on the host).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import Running, start_command

# Debian's client (docker.io) first: it is the one of the same version as its dockerd.
CLIENTS = ("/usr/bin/docker", "docker")


class EngineError(RuntimeError):
    """An engine command failed: the command, its status and its output."""


def run(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(argv),
        env=dict(env) if env is not None else None,
        capture_output=True,
        timeout=timeout,
        input=input,
    )
    completed = subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode(errors="replace"),
        result.stderr.decode(errors="replace"),
    )
    if check and completed.returncode != 0:
        raise EngineError(
            f"{' '.join(argv)} exited {completed.returncode}:\n{completed.stdout}\n"
            f"{completed.stderr}"
        )
    return completed


def piped(
    source: Sequence[str],
    target: Sequence[str],
    env: Mapping[str, str],
    what: str,
    source_env: Mapping[str, str] | None = None,
) -> None:
    """`source | target` (an image's layers, from one command to another), or an error."""
    with subprocess.Popen(
        list(source), stdout=subprocess.PIPE, env=dict(source_env or env)
    ) as produced:
        consumed = subprocess.run(
            list(target), stdin=produced.stdout, env=dict(env), capture_output=True, timeout=600
        )
    if consumed.returncode != 0 or produced.returncode != 0:
        raise EngineError(f"{what}: {consumed.stderr.decode(errors='replace')}")


@dataclass
class Docker:
    """The `docker` client, talking to one dockerd."""

    client: str
    host: str

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        # The classic builder: the one Debian's docker.io and docker-compose 1.29 build with.
        return {**os.environ, "DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "0", **(extra or {})}

    def __call__(
        self, *args: str, timeout: float = 600, check: bool = True, input: bytes | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run([self.client, *args], self.env(), timeout, check, input)

    def run_in(
        self, folder: Path, argv: Sequence[str], timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """A command that talks to this dockerd (docker-compose), run in `folder`."""
        result = subprocess.run(
            list(argv), cwd=folder, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise EngineError(
                f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def start(self, argv: Sequence[str], cwd: Path, log: Path) -> Running:
        """A command that talks to this dockerd (docker-compose, `docker run`), running."""
        return start_command(argv, cwd, self.env(), log)

    def has_image(self, name: str) -> bool:
        return self("image", "inspect", name, check=False).returncode == 0

    def inspect(self, name: str) -> dict[str, Any]:
        [found] = json.loads(self("inspect", name).stdout)
        return dict(found)

    def labels(self, image: str) -> dict[str, str]:
        [found] = json.loads(self("image", "inspect", image).stdout)
        return dict(found["Config"].get("Labels") or {})

    def health(self, container: str) -> str:
        state = self.inspect(container)["State"]
        return str(state.get("Health", {}).get("Status", "none"))

    def wait_until_healthy(self, container: str, timeout: float = 120) -> float:
        """Seconds until the container's HEALTHCHECK said healthy; fails if it never does."""
        started = time.monotonic()
        while (status := self.health(container)) != "healthy":
            state = self.inspect(container)["State"]
            if not state["Running"] or time.monotonic() - started > timeout:
                logs = self("logs", container, check=False)
                raise AssertionError(
                    f"{container} is {status}, running={state['Running']}, after "
                    f"{time.monotonic() - started:.0f} s; health log: "
                    f"{state.get('Health', {}).get('Log')}\n{logs.stdout}{logs.stderr}"
                )
            time.sleep(0.5)
        return time.monotonic() - started

    def written(self, container: str) -> list[str]:
        """What the container's processes changed of its image (`docker diff`: A, C, D)."""
        return self("diff", container).stdout.splitlines()

    def remove_everything_started(self) -> None:
        """Containers, networks and volumes; the tagged images stay (they are the cache)."""
        containers = self("ps", "--all", "--quiet").stdout.split()
        if containers:
            self("rm", "--force", "--volumes", *containers, check=False)
        self("network", "prune", "--force", check=False)
        self("volume", "prune", "--force", check=False)
        self("image", "prune", "--force", check=False)


def docker_client() -> str:
    for candidate in CLIENTS:
        found = shutil.which(candidate)
        if found:
            return found
    raise EngineError("No docker client: apt-get install docker.io (scripts/test does, as root)")


@contextlib.contextmanager
def running_dockerd(data_root: Path, state: Path) -> Iterator[Docker]:
    """dockerd on `data_root` (kept), with its socket and run state in `state` (removed)."""
    if shutil.which("dockerd") is None:
        raise EngineError("No dockerd: apt-get install docker.io (scripts/test does, as root)")
    if os.geteuid() != 0:
        raise EngineError("The engine tests start their own dockerd, which needs root.")
    data_root.mkdir(parents=True, exist_ok=True)
    socket = state / "docker.sock"
    argv = [
        "dockerd",
        f"--data-root={data_root}",
        f"--exec-root={state / 'exec'}",
        f"--pidfile={state / 'docker.pid'}",
        f"--host=unix://{socket}",
    ]
    daemon = start_command(argv, state, os.environ, state / "dockerd.log")
    docker = Docker(docker_client(), f"unix://{socket}")
    try:
        deadline = time.monotonic() + 90
        while docker("version", check=False, timeout=30).returncode != 0:
            if daemon.popen.poll() is not None or time.monotonic() > deadline:
                raise EngineError(f"dockerd did not start:\n{daemon.output[-4000:]}")
            time.sleep(0.2)
        yield docker
    finally:
        with contextlib.suppress(Exception):
            docker.remove_everything_started()
        daemon.popen.send_signal(signal.SIGTERM)
        try:
            daemon.popen.wait(60)
        except subprocess.TimeoutExpired:
            daemon.kill()
        # dockerd's containerd, shims: whatever is left in its session.
        daemon.kill()
