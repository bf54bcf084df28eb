"""The exported units, run by systemd as PID 1 in a container (`podman run --systemd=always`).

The machine is Debian with systemd and Redis, the example project installed as the image
of the Dockerfile export has it (its /usr/local and /app, copied). The units go into
/etc/systemd/system as the deploy guide says, then `systemctl start example.target`: the
release step runs to its end before web and the worker start, web serves, `systemctl stop`
stops each within TimeoutStopSec with success, and a killed worker is started again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.engines import images
from tests.engines.dockerd import Docker
from tests.engines.podman import Podman
from tests.support import Project, export_files, get

IMAGE = "localhost/example-systemd:latest"
CONTAINER = "example-systemd"
# What systemd needs in a container to sandbox its services (namespaces, its own /dev).
SANDBOXING = (
    "--cap-add=SYS_ADMIN,MKNOD,NET_ADMIN,SYS_PTRACE",
    "--security-opt=seccomp=unconfined",
    "--security-opt=apparmor=unconfined",
)
CONTAINERFILE = """\
FROM {base}
COPY --from={example} /usr/local /usr/local
COPY --from={example} /app /srv/example
"""


@pytest.fixture
def machine(
    docker: Docker,
    podman: Podman,
    example_image: str,
    example_project: Project,
    web_port: int,
    tmp_path: Path,
) -> Iterator[Path]:
    """The machine, running, with the units in /etc/systemd/system; their folder here."""
    with running_machine(docker, podman, example_image, example_project, web_port, tmp_path):
        yield tmp_path / "units"


@pytest.fixture
def socket_activated_machine(
    docker: Docker,
    podman: Podman,
    example_image: str,
    example_project: Project,
    web_port: int,
    tmp_path: Path,
) -> Iterator[Path]:
    """The machine, with the units of `--socket-activation`: web's socket is systemd's."""
    with running_machine(
        docker, podman, example_image, example_project, web_port, tmp_path, "--socket-activation"
    ):
        yield tmp_path / "units"


@contextmanager
def running_machine(
    docker: Docker,
    podman: Podman,
    example_image: str,
    example_project: Project,
    web_port: int,
    tmp_path: Path,
    *export_flags: str,
) -> Iterator[None]:
    base = images.ensure(docker, images.systemd())
    podman.load_from(docker, base)
    podman.load_from(docker, example_image)
    (tmp_path / "Containerfile").write_text(CONTAINERFILE.format(base=base, example=example_image))
    podman("build", "--quiet", f"--tag={IMAGE}", str(tmp_path))
    units = export_files(
        example_project,
        "systemd",
        tmp_path / "units",
        "--project=example",
        "--python=/usr/bin/python3",
        "--working-directory=/srv/example",
        *export_flags,
    )
    podman(
        "run", "--detach", f"--name={CONTAINER}", "--systemd=always", "--stop-signal=SIGRTMIN+3",
        *SANDBOXING,
        "--add-host=redis:127.0.0.1", f"--publish=127.0.0.1:{web_port}:{web_port}", IMAGE,
    )  # fmt: skip
    try:
        wait_until_booted(podman)
        for unit in units:
            podman("cp", str(unit), f"{CONTAINER}:/etc/systemd/system/{unit.name}")
        systemctl(podman, "daemon-reload")
        yield
    finally:
        # The units were stopped by the test; the machine's own halt is not under test (it
        # took from 5 to over 30 seconds): removed at once.
        podman("rm", "--force", "--time=0", CONTAINER, check=False, timeout=120)


def systemctl(podman: Podman, *args: str) -> str:
    return podman("exec", CONTAINER, "systemctl", *args, timeout=300).stdout


def wait_until_booted(podman: Podman, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        state = podman("exec", CONTAINER, "systemctl", "is-system-running", check=False).stdout
        if state.strip() in ("running", "degraded"):
            return
        assert time.monotonic() < deadline, f"systemd is {state!r} after {timeout} s"
        time.sleep(0.5)


def show(podman: Podman, unit: str, *properties: str) -> dict[str, str]:
    listed = systemctl(podman, "show", unit, *(f"--property={name}" for name in properties))
    return dict(line.split("=", 1) for line in listed.splitlines() if "=" in line)


def journal(podman: Podman) -> str:
    return podman("exec", CONTAINER, "journalctl", "--no-pager", "-n", "200", check=False).stdout


def test_systemd_runs_the_units(podman, machine, web_port):
    systemctl(podman, "start", "example.target")
    release = show(podman, "example-migrate.service", "Result", "ExecMainStatus",
                   "ExecMainExitTimestampMonotonic")  # fmt: skip
    assert release["Result"] == "success", journal(podman)
    assert release["ExecMainStatus"] == "0", journal(podman)
    for unit in ("example-web.service", "example-worker.service"):
        started = show(podman, unit, "ActiveState", "ExecMainStartTimestampMonotonic")
        assert started["ActiveState"] == "active", journal(podman)
        # Started once the release step had ended.
        assert int(started["ExecMainStartTimestampMonotonic"]) > int(
            release["ExecMainExitTimestampMonotonic"]
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            assert get(f"127.0.0.1:{web_port}", "/healthz/") == (200, "ok\n")
            break
        except OSError:
            assert time.monotonic() < deadline, journal(podman)
            time.sleep(0.5)

    # Every unit runs as the project's own user (DynamicUser=), shared by its units, and
    # what that user owns on the machine is in the places the units give it: the state
    # folder (the SQLite database migrate made), gunicorn's runtime folder, private /tmps.
    uids = {
        unit: podman("exec", CONTAINER, "stat", "--format=%u",
                     f"/proc/{show(podman, unit, 'MainPID')['MainPID']}").stdout.strip()
        for unit in ("example-web.service", "example-worker.service")
    }  # fmt: skip
    [uid] = set(uids.values())
    assert uid != "0", uids
    owned = podman("exec", CONTAINER, "find", "/", "(", "-path", "/proc", "-o", "-path",
                   "/sys", "-o", "-path", "/dev", ")", "-prune", "-o", "-uid", uid,
                   "-print").stdout.split()  # fmt: skip
    given = ("/var/lib/private/example", "/run/example-web", "/tmp/systemd-private-",
             "/var/tmp/systemd-private-")  # fmt: skip
    assert [path for path in owned if not path.startswith(given)] == [], owned
    assert "/var/lib/private/example/db.sqlite3" in owned, owned

    # A worker killed is started again (Restart=on-failure).
    before = show(podman, "example-worker.service", "MainPID", "NRestarts")
    systemctl(podman, "kill", "--signal=SIGKILL", "example-worker.service")
    deadline = time.monotonic() + 30
    while (after := show(podman, "example-worker.service", "MainPID", "NRestarts", "ActiveState"))[
        "NRestarts"
    ] == before["NRestarts"] or after["ActiveState"] != "active":
        assert time.monotonic() < deadline, journal(podman)
        time.sleep(0.5)
    assert after["MainPID"] != before["MainPID"]

    for unit in ("example-web.service", "example-worker.service"):
        timeout = show(podman, unit, "TimeoutStopUSec")["TimeoutStopUSec"]
        stopping = time.monotonic()
        systemctl(podman, "stop", unit)
        seconds = time.monotonic() - stopping
        stopped = show(podman, unit, "Result", "ExecMainStatus", "ExecMainCode")
        # Ended by its own exit after the stop signal, not killed when the time ran out.
        assert stopped["Result"] == "success", f"{unit}: {stopped}\n{journal(podman)}"
        assert seconds < 35, f"{unit} took {seconds:.1f} s to stop (TimeoutStopSec {timeout})"
    assert "Traceback" not in journal(podman)


# Run inside the machine: the load client of tests/load.py against web's socket while
# systemd restarts web's service; the counts, as JSON.
RESTART_UNDER_LOAD = """\
import json, subprocess, sys, time
sys.path.insert(0, "/tmp")
from load import LoadClient
with LoadClient("127.0.0.1:{port}", threads=6, timeout=60) as load:
    load.wait_for_ok(50)
    subprocess.run(["systemctl", "restart", "example-web.service"], check=True)
    before = load.result.ok
    deadline = time.monotonic() + 60
    while load.result.ok < before + 50 and time.monotonic() < deadline:
        time.sleep(0.05)
result = load.result
print(json.dumps({{"ok": result.ok, "failed": result.failed, "refused": result.refused,
                  "retried": result.retried, "errors": result.errors[:5]}}))
"""


def test_systemd_socket_activation_restarts_web_without_refusing(
    podman, socket_activated_machine, web_port
):
    systemctl(podman, "start", "example.target")
    socket_unit = show(podman, "example-web.socket", "ActiveState", "Listen")
    assert socket_unit["ActiveState"] == "active", journal(podman)
    assert socket_unit["Listen"] == f"0.0.0.0:{web_port} (Stream)", socket_unit
    deadline = time.monotonic() + 60
    while True:
        try:
            assert get(f"127.0.0.1:{web_port}", "/healthz/") == (200, "ok\n")
            break
        except OSError:
            assert time.monotonic() < deadline, journal(podman)
            time.sleep(0.5)
    # The web service serves on the socket systemd passed, not on one it bound.
    assert "web: serving on the socket(s) systemd passed (fd 3: 0.0.0.0:" in journal(podman)

    load = Path(__file__).parents[1] / "load.py"
    podman("cp", str(load), f"{CONTAINER}:/tmp/load.py")
    script = RESTART_UNDER_LOAD.format(port=web_port)
    ran = podman("exec", CONTAINER, "/usr/bin/python3", "-c", script, timeout=300)
    counts = json.loads(ran.stdout.strip().splitlines()[-1])

    print(f"gunicorn under systemd, systemctl restart under load: {counts}")
    assert counts["refused"] == 0, f"{counts}\n{journal(podman)}"
    assert (counts["failed"], counts["retried"]) == (0, 0), f"{counts}\n{journal(podman)}"
    assert counts["ok"] > 100, counts
    restarted = show(podman, "example-web.service", "ActiveState", "NRestarts")
    assert restarted["ActiveState"] == "active", journal(podman)
    systemctl(podman, "stop", "example.target")
    assert "Traceback" not in journal(podman)
