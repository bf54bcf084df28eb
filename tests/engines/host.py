"""What the engines change on the host, put back as it was once the session's engines stop.

dockerd and netavark (podman's networks) add firewall rules and chains, and leave them
(dockerd also sets the FORWARD chain's policy to DROP); containerd, dockerd and netavark
make run-time folders under /run that outlive them, netavark a mount of /run/netns, and
bridges (a network whose teardown failed keeps its bridge); the engines' cgroup drivers
leave their (empty) parent cgroups. The session records each before its engines start and
puts it back after: the firewall's whole ruleset as it was, the folders, mounts, links and
cgroups it made removed. Nothing else on the host is touched.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from tests.engines.dockerd import EngineError, run

# The folders the engines make under /run whatever their own state folders are set to:
# containerd's shim sockets, dockerd's plugins, netavark's IP allocations and DNS, and the
# parent of the podman state this session keeps in one place.
RUN_FOLDERS = tuple(
    Path("/run", name) for name in ("containerd", "docker", "containers", "prodserver-engines")
)
# Where netavark keeps the network namespaces of podman's pods: it bind-mounts the folder
# on itself (as `ip netns` does) and leaves the mount.
NETNS = Path("/run/netns")
CGROUPS = Path("/sys/fs/cgroup")
# The parent cgroups of dockerd's and podman's containers (cgroupfs driver).
ENGINE_CGROUPS = ("docker", "libpod_parent")
# The network links the engines make: dockerd's bridge, netavark's bridges, their veths.
ENGINE_LINKS = re.compile(r"docker0|br-[0-9a-f]+|podman[0-9]+|veth[0-9a-f]+")
SYS_NET = Path("/sys/class/net")


@contextlib.contextmanager
def restored_host() -> Iterator[None]:
    ruleset = firewall_ruleset()
    folders = [folder for folder in RUN_FOLDERS if not folder.exists()]
    cgroups = cgroup_folders()
    links = engine_links()
    netns_mounted = str(NETNS) in mount_points()
    try:
        yield
    finally:
        problems = []
        restored = run(["nft", "-f", "-"], check=False, input=b"flush ruleset\n" + ruleset)
        if restored.returncode != 0:
            problems.append(f"the firewall's ruleset: {restored.stderr}")
        for link in engine_links() - links:
            run(["ip", "link", "delete", link], check=False)
        if str(NETNS) in mount_points() and not netns_mounted and not any(NETNS.iterdir()):
            run(["umount", str(NETNS)], check=False)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        problems.extend(remove_cgroups(cgroup_folders() - cgroups))
        if problems:
            raise EngineError("Not put back as it was: " + "; ".join(problems))


def mount_points() -> list[str]:
    """Every mount point of this mount namespace (a folder bind-mounted on itself too)."""
    return [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]


def firewall_ruleset() -> bytes:
    """The whole nftables ruleset (iptables-nft's rules are in it)."""
    if shutil.which("nft") is None:
        raise EngineError(
            "No nft to record the firewall's rules that dockerd and podman change, and put "
            "them back: apt-get install nftables (scripts/test does, as root)"
        )
    listed = run(["nft", "list", "ruleset"])
    return listed.stdout.encode()


def engine_links() -> set[str]:
    return {path.name for path in SYS_NET.iterdir() if ENGINE_LINKS.fullmatch(path.name)}


def cgroup_folders() -> set[Path]:
    """The engines' parent cgroups, in each hierarchy."""
    if not CGROUPS.is_dir():
        return set()
    hierarchies = [CGROUPS, *(path for path in CGROUPS.iterdir() if path.is_dir())]
    return {
        hierarchy / name
        for hierarchy in hierarchies
        for name in ENGINE_CGROUPS
        if (hierarchy / name / "cgroup.procs").exists()
    }


def remove_cgroups(folders: set[Path]) -> list[str]:
    """Each cgroup and those below it, deepest first (a cgroup is removed with rmdir once
    it has no process and no child); what could not be removed, said."""
    left = []
    for top in folders:
        below = sorted(
            (path for path in top.rglob("*") if path.is_dir()), key=lambda path: -len(path.parts)
        )
        for folder in [*below, top]:
            with contextlib.suppress(FileNotFoundError):
                try:
                    folder.rmdir()
                except OSError as error:
                    left.append(f"cgroup {folder}: {error.strerror}")
    return left
