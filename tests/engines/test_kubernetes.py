"""The exported Kubernetes manifests, run by `podman kube play`: a pod per Deployment.

podman plays Pods and Deployments, not Jobs nor Services: the release Job's pod template
is played first as a Pod of its own (the Job's container, to its end), then the rest.
The pods join a network with DNS, where the broker is the pod `redis`, as a Service
would name it in a cluster. podman turns a livenessProbe into a health check, which it
runs from systemd timers: with no systemd here, the test runs it (`podman healthcheck
run`). What podman cannot check (Services, readiness and startup probes, an httpGet
probe on a named port) is schema-checked in tests/exports, and docs/deploy-kubernetes.md
says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.engines import images
from tests.engines.conftest import KUBERNETES_SETTINGS
from tests.engines.dockerd import Docker
from tests.engines.podman import Podman
from tests.support import Project, export_files, get

NETWORK = "prodserver-engines"
REDIS_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: redis
spec:
  containers:
    - name: redis
      image: redis:8
"""


def release_pod(job: dict[str, Any]) -> dict[str, Any]:
    """The Job's pod template, as the Pod the Job would start."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": job["metadata"]["name"],
            "labels": job["spec"]["template"]["metadata"]["labels"],
        },
        "spec": job["spec"]["template"]["spec"],
    }


@pytest.fixture
def played(
    docker: Docker, podman: Podman, example_image: str, example_project: Project, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    podman.load_from(docker, example_image)
    podman.load_from(docker, images.ensure(docker, images.redis()))
    podman("network", "create", NETWORK)
    [manifest] = export_files(
        example_project, "kubernetes", tmp_path / "kubernetes", f"--settings={KUBERNETES_SETTINGS}"
    )
    documents = [document for document in yaml.safe_load_all(manifest.read_text()) if document]
    [job] = [document for document in documents if document["kind"] == "Job"]
    files = {
        "redis": tmp_path / "redis.yaml",
        "release": tmp_path / "release.yaml",
        "manifest": manifest,
    }
    grace = {
        document["metadata"]["name"].removeprefix("example-"): document["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"
        ]
        for document in documents
        if document["kind"] == "Deployment"
    }
    files["redis"].write_text(REDIS_POD)
    files["release"].write_text(yaml.safe_dump(release_pod(job)))
    try:
        yield {**files, "grace": grace}
    finally:
        for path in files.values():
            podman("kube", "down", str(path), check=False)
        podman("network", "rm", "--force", NETWORK, check=False)


def wait_for_exit(podman: Podman, container: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while (state := podman.inspect(container)["State"])["Running"] or state["Status"] in (
        "created",
        "configured",
        "initialized",
    ):
        if time.monotonic() > deadline:
            raise AssertionError(f"{container} still running after {timeout} s")
        time.sleep(0.5)
    return dict(state)


def test_podman_plays_the_manifests(podman, played, web_port):
    network = f"--network={NETWORK}"
    podman("kube", "play", network, str(played["redis"]))
    # The release step first, to its end, with status 0.
    podman("kube", "play", network, str(played["release"]))
    release = wait_for_exit(podman, "example-release-migrate")
    logs = podman("logs", "example-release-migrate")
    assert release["ExitCode"] == 0, logs.stdout + logs.stderr
    # Its pod gone before the Deployments start, as a Job's is done: netavark's teardown of
    # a pod's network, when it overlaps another, can leave aardvark-dns without the
    # network's names (see the stop below).
    podman("kube", "down", str(played["release"]))

    played_output = podman("kube", "play", network, str(played["manifest"])).stdout
    assert "example-web-pod-0" in podman("pod", "ps").stdout, played_output
    web, worker = "example-web-pod-0-web", "example-worker-pod-0-worker"
    # web answers on its pod's address, as its Service would reach it.
    address = podman.inspect(web)["NetworkSettings"]["Networks"][NETWORK]["IPAddress"]
    deadline = time.monotonic() + 60
    while True:
        try:
            status, body = get(f"{address}:{web_port}", "/healthz/", timeout=5)
            break
        except OSError:
            assert time.monotonic() < deadline, podman("logs", web).stdout
            time.sleep(0.5)
    assert (status, body) == (200, "ok\n")
    # The worker's liveness probe (`prodserver --probe worker`: a Celery ping) passes.
    podman.wait_until_healthy(worker, timeout=120)
    # web's httpGet probes name the port `http`: podman makes a curl of port 0 from them,
    # which no cluster does (the kubelet resolves the name and asks from outside).
    assert "http://localhost:0/" in " ".join(podman.inspect(web)["Config"]["Healthcheck"]["Test"])

    # Each container as its pod spec hardens it (podman applies these fields).
    for container in (web, worker):
        config = podman.inspect(container)
        host = config["HostConfig"]
        assert host["ReadonlyRootfs"] is True, container
        assert podman("exec", container, "id", "-u").stdout.strip() == "10001"
        # The server itself: no capability, no privilege to gain, the runtime's seccomp filter.
        status = podman("exec", container, "cat", "/proc/1/status").stdout
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        assert fields["CapEff"].strip() == "0" * 16, (container, status)
        assert fields["NoNewPrivs"].strip() == "1", (container, status)
        assert fields["Seccomp"].strip() == "2", (container, status)
        # podman itself mounts /etc/hosts, /etc/resolv.conf and /etc/hostname into /etc.
        written = [line for line in podman.written(container) if line != "C /etc"]
        assert written == [], (container, written)
    print("kubernetes: memory in use", podman("stats", "--no-stream", "--format",
          "{{.Name}} {{.MemUsage}}", web, worker).stdout.replace("\n", "; "))  # fmt: skip
    # The worker first: its warm shutdown talks to the broker (it deletes its remote
    # control queue's binding over a new connection), which it finds by name. podman
    # stops a pod (and tears its network down) once its last container has stopped; with
    # netavark 1.4, aardvark-dns may then answer no name of the network until it is
    # restarted, and the worker waits out the resolver's timeouts past its grace period.
    # A cluster's DNS keeps answering while pods stop; gunicorn needs no name to stop.
    for container in (worker, web):
        # Within its terminationGracePeriodSeconds (podman's own default is 10 s).
        grace = played["grace"][container.rsplit("-", 1)[-1]]
        started = time.monotonic()
        podman("stop", f"--time={grace}", container, timeout=120)
        seconds = time.monotonic() - started
        state = podman.inspect(container)["State"]
        logs = podman("logs", container)
        assert state["ExitCode"] == 0, f"{seconds:.1f} s\n{logs.stdout}{logs.stderr}"
        assert seconds < grace
    assert "Traceback" not in podman("logs", worker).stdout + podman("logs", worker).stderr
