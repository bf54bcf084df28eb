"""`podman` with a store and configuration of the test session's own.

The store (images, cached between runs) sits beside dockerd's; the run state, the network
definitions and the engine configuration are the session's, removed after it. Images come
from the session's dockerd (`docker save | podman load`), so one build serves both.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.engines.dockerd import Docker, EngineError, piped, run

# podman asks for more open files than this machine's hard limit lets even root have (no
# CAP_SYS_RESOURCE): each container gets the limits this process has instead.
CONFIGURATION = """\
[containers]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{state}/events.log"
tmp_dir = "{state}/libpod"

[network]
network_config_dir = "{state}/networks"
"""
# podman's own default for the number of processes, when this machine allows it.
NPROC = 32768


@dataclass
class Podman:
    root: Path
    state: Path

    @property
    def configuration(self) -> Path:
        return self.state / "containers.conf"

    def argv(self, *args: str) -> list[str]:
        return ["podman", f"--root={self.root}", f"--runroot={self.state / 'run'}", *args]

    def env(self) -> dict[str, str]:
        return {**os.environ, "CONTAINERS_CONF": str(self.configuration)}

    def __call__(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run(self.argv(*args), self.env(), timeout, check)

    def image_id(self, name: str) -> str | None:
        found = self("image", "inspect", "--format={{.Id}}", name, check=False)
        return found.stdout.strip() if found.returncode == 0 else None

    def load_from(self, docker: Docker, image: str) -> None:
        """`image` from dockerd, unless this store has it already (the same image id)."""
        wanted = docker("image", "inspect", "--format={{.Id}}", image).stdout.strip()
        if self.image_id(image) == wanted.removeprefix("sha256:"):
            return
        piped(
            [docker.client, "save", image],
            self.argv("load", "--quiet"),
            self.env(),
            f"podman load {image}",
            source_env=docker.env(),
        )

    def inspect(self, container: str) -> dict[str, Any]:
        [found] = json.loads(self("container", "inspect", container).stdout)
        return dict(found)

    def healthcheck(self, container: str) -> subprocess.CompletedProcess[str]:
        """Run the container's health check now (podman's timers are systemd's; none here)."""
        return self("healthcheck", "run", container, check=False, timeout=120)

    def wait_until_healthy(self, container: str, timeout: float = 120) -> float:
        started = time.monotonic()
        while (check := self.healthcheck(container)).returncode != 0:
            if time.monotonic() - started > timeout:
                logs = self("logs", container, check=False)
                raise AssertionError(
                    f"{container}: health check still fails after {timeout} s: "
                    f"{check.stdout}{check.stderr}\n{logs.stdout}{logs.stderr}"
                )
            time.sleep(1)
        return time.monotonic() - started

    def written(self, container: str) -> list[str]:
        """What the container's processes changed of its image (`podman diff`)."""
        return self("diff", container).stdout.splitlines()

    def remove_everything_started(self) -> None:
        self("pod", "rm", "--all", "--force", "--time=10", check=False)
        self("rm", "--all", "--force", "--time=10", check=False)
        self("network", "prune", "--force", check=False)
        self("volume", "prune", "--force", check=False)
        self("image", "prune", "--force", check=False)


@contextlib.contextmanager
def podman_store(root: Path, state: Path) -> Iterator[Podman]:
    if shutil.which("podman") is None:
        raise EngineError("No podman: apt-get install podman (scripts/test does, as root)")
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    nproc = NPROC if nproc == resource.RLIM_INFINITY else min(NPROC, nproc)
    (state / "networks").mkdir(parents=True, exist_ok=True)
    podman = Podman(root, state)
    podman.configuration.write_text(CONFIGURATION.format(nofile=nofile, nproc=nproc, state=state))
    try:
        yield podman
    finally:
        podman.remove_everything_started()
        shutil.rmtree(state, ignore_errors=True)
