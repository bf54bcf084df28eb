"""The images the exports name, which no registry gives this machine: made from Debian.

Each is pulled if a registry answers. If none does, it is made with `mmdebstrap` from
Debian's packages, with what the official image offers that the exports and the tests
rely on, and tagged with the official name, so that the files are used as generated
(`FROM python:3.13-slim`). A made image carries a label that says so; the test session
reports, for each image, where it came from.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.engines.dockerd import Docker, EngineError, piped, run
from tests.engines.host import mount_points

DEBIAN = "http://deb.debian.org/debian"
# The Debian release whose python3 is that version (the official images are Debian too).
SUITES = {"3.11": "bookworm", "3.13": "trixie"}
ORIGIN = "org.django-prodserver.engines.made-from"
RECIPE = "org.django-prodserver.engines.recipe"
# What a slim image leaves out (as Docker's debian:*-slim does).
SLIM = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
)
HOST_CERTIFICATES = Path("/etc/ssl/certs/ca-certificates.crt")
CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)
PULL_TIMEOUT = 60
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Recipe:
    """How to make an image from Debian: its packages, the rest of its setup, its config."""

    name: str
    suite: str
    packages: tuple[str, ...]
    # Dockerfile instructions for `docker import --change` (ENV, USER, WORKDIR, CMD, ...).
    config: tuple[str, ...]
    finish: Callable[[Path], None] = field(default=lambda root: None)

    @property
    def key(self) -> str:
        """What the image is made of: a cached image with another key is made again."""
        finish = self.finish.__code__
        made_of = repr((self.suite, self.packages, self.config, finish.co_code, finish.co_consts))
        return hashlib.sha256(made_of.encode()).hexdigest()[:16]


def python_slim(version: str) -> Recipe:
    """`python:X.Y-slim`: python, pip (in /usr/local, not Debian's), CA certificates."""
    if version not in SUITES:
        raise EngineError(
            f"python:{version}-slim cannot be pulled, and no Debian release has Python "
            f"{version} to make it from (these do: {', '.join(SUITES)}). Run the engine "
            f"tests with one of those Pythons."
        )

    def finish(root: Path) -> None:
        # The official image's pip is its own, not the distribution's: installs land in
        # /usr/local, and no EXTERNALLY-MANAGED marker stops `pip install` as root.
        for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
        [wheel] = root.glob("usr/share/python-wheels/pip-*.whl")
        inside = f"/{wheel.relative_to(root)}"
        chroot(root, "python3", f"{inside}/pip", "install", "--no-index", "--no-cache-dir",
               "--root-user-action=ignore", inside)  # fmt: skip
        add_host_certificates(root)

    return Recipe(
        name=f"python:{version}-slim",
        suite=SUITES[version],
        packages=("python3", "python3-pip-whl", "python-is-python3", "ca-certificates", "passwd"),
        config=("ENV LANG=C.UTF-8", 'CMD ["python3"]'),
        finish=finish,
    )


def redis() -> Recipe:
    """`redis:8`: redis-server as user redis on every interface, its data in /data."""

    def finish(root: Path) -> None:
        data = root / "data"
        data.mkdir()
        chroot(root, "chown", "redis:redis", "/data")

    return Recipe(
        name="redis:8",
        suite="trixie",
        packages=("redis-server",),
        config=(
            "USER redis",
            "WORKDIR /data",
            "EXPOSE 6379",
            'CMD ["redis-server", "--protected-mode", "no", "--bind", "*"]',
        ),
        finish=finish,
    )


# The official image's start: a cluster made on the first start, from POSTGRES_USER,
# POSTGRES_PASSWORD and POSTGRES_DB, that takes passwords from every address.
POSTGRES_ENTRYPOINT = """\
#!/bin/sh
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
user="${POSTGRES_USER:-postgres}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    printf '%s\\n' "$POSTGRES_PASSWORD" > /tmp/pwfile
    initdb --username="$user" --pwfile=/tmp/pwfile --auth=scram-sha-256 -D "$PGDATA" >/dev/null
    rm /tmp/pwfile
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    if [ "${POSTGRES_DB:-$user}" != postgres ]; then
        echo "CREATE DATABASE \\"${POSTGRES_DB:-$user}\\" OWNER \\"$user\\"" |
            postgres --single -D "$PGDATA" postgres >/dev/null
    fi
fi
exec "$@"
"""


def postgres() -> Recipe:
    """`postgres:17`: the official image's environment variables, its data folder, its port."""

    def finish(root: Path) -> None:
        entrypoint = root / "usr/local/bin/docker-entrypoint.sh"
        entrypoint.write_text(POSTGRES_ENTRYPOINT)
        entrypoint.chmod(0o755)
        (root / "var/lib/postgresql/data").mkdir(parents=True)
        (root / "run/postgresql").mkdir(exist_ok=True)  # its socket's folder
        chroot(root, "chown", "-R", "postgres:", "/var/lib/postgresql", "/run/postgresql")

    return Recipe(
        name="postgres:17",
        suite="trixie",
        packages=("postgresql-17",),
        config=(
            f"ENV PATH=/usr/lib/postgresql/17/bin:{SYSTEM_PATH}",
            "ENV PGDATA=/var/lib/postgresql/data",
            "USER postgres",
            "EXPOSE 5432",
            'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]',
            'CMD ["postgres", "-c", "listen_addresses=*"]',
        ),
        finish=finish,
    )


SYSTEMD_IMAGE = "prodserver-engines/systemd:trixie"


def systemd() -> Recipe:
    """A Debian with systemd as its init (for `podman run --systemd=always`), Redis and Python.

    Not an official image: a machine as the systemd export expects one, where the tests
    install the project.
    """
    return Recipe(
        name=SYSTEMD_IMAGE,
        suite="trixie",
        packages=(
            "systemd",
            "systemd-sysv",
            "dbus",
            "python3",
            "python-is-python3",
            "ca-certificates",
            "passwd",
            "redis-server",
        ),
        # podman --systemd=always stops it with SIGRTMIN+3 (its halt).
        config=('CMD ["/sbin/init"]',),
        finish=add_host_certificates,
    )


def chroot(root: Path, *argv: str) -> None:
    run(["chroot", str(root), *argv], timeout=300)


def add_host_certificates(root: Path) -> None:
    """The machine's own CA certificates (a proxy that re-signs HTTPS), trusted in the image."""
    if not HOST_CERTIFICATES.is_file():
        return
    shipped = set(CERTIFICATE.findall((root / "etc/ssl/certs/ca-certificates.crt").read_text()))
    extra = [c for c in CERTIFICATE.findall(HOST_CERTIFICATES.read_text()) if c not in shipped]
    folder = root / "usr/local/share/ca-certificates"
    for number, certificate in enumerate(extra):
        (folder / f"host-{number}.crt").write_text(certificate + "\n")
    if extra:
        chroot(root, "update-ca-certificates")


# Where every image of the session came from, said at its end.
ORIGINS: list[str] = []


def ensure(docker: Docker, recipe: Recipe) -> str:
    """The image's name, once `docker` has it; where it came from goes into ORIGINS."""
    origin = ensure_image(docker, recipe)
    if origin not in ORIGINS:
        ORIGINS.append(origin)
    return recipe.name


def ensure_image(docker: Docker, recipe: Recipe) -> str:
    """The image in `docker`, from the cache, a registry, or made now; where it came from."""
    if docker.has_image(recipe.name):
        labels = docker.labels(recipe.name)
        if ORIGIN not in labels:
            return f"{recipe.name}: pulled from its registry (cached)"
        if labels.get(RECIPE) == recipe.key:
            return f"{recipe.name}: {labels[ORIGIN]} (cached)"
    pulled = docker("pull", recipe.name, timeout=PULL_TIMEOUT, check=False)
    if pulled.returncode == 0:
        return f"{recipe.name}: pulled from its registry"
    made = make_image(docker, recipe)
    return f"{recipe.name}: {made} (no registry answered: {last_line(pulled.stderr)})"


def make_image(docker: Docker, recipe: Recipe) -> str:
    if shutil.which("mmdebstrap") is None:
        raise EngineError(
            f"{recipe.name} cannot be pulled and mmdebstrap is missing to make it: "
            f"apt-get install mmdebstrap (scripts/test does, as root)"
        )
    origin = f"made from Debian {recipe.suite}'s packages ({', '.join(recipe.packages)})"
    folder = Path(tempfile.mkdtemp(prefix="prodserver-image-"))
    root = folder / "root"
    try:
        dpkg = [f"--dpkgopt={option}" for option in SLIM]
        bootstrap(
            ["mmdebstrap", "--variant=minbase", "--mode=root", "--format=directory",
             f"--include={','.join(recipe.packages)}", *dpkg, recipe.suite, str(root), DEBIAN]
        )  # fmt: skip
        recipe.finish(root)
        labels = f'LABEL {ORIGIN}="{origin}" {RECIPE}="{recipe.key}"'
        config = (f"ENV PATH={SYSTEM_PATH}", *recipe.config, labels)
        changes = [f"--change={line}" for line in config]
        piped(
            ["tar", "-C", str(root), "-c", "."],
            [docker.client, "import", *changes, "-", recipe.name],
            docker.env(),
            f"docker import {recipe.name}",
        )
    finally:
        remove_tree(folder)
    return origin


def bootstrap(argv: list[str]) -> None:
    """mmdebstrap, stopped by SIGTERM if this is interrupted: it then unmounts what it
    mounted in the tree (/proc, /sys, /dev/pts), which a SIGKILL would leave there."""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        try:
            output, _ = process.communicate(timeout=900)
        except BaseException:
            process.terminate()
            process.communicate(timeout=120)
            raise
    if process.returncode != 0:
        raise EngineError(f"{' '.join(argv)} exited {process.returncode}:\n{output.decode()}")


def remove_tree(folder: Path) -> None:
    """`folder`, once nothing is mounted in it any more: never a file of a mounted /sys."""
    mounted = [point for point in mount_points() if point.startswith(f"{folder}/")]
    for point in sorted(mounted, key=len, reverse=True):
        run(["umount", point], check=False)
    left = [point for point in mounted if os.path.ismount(point)]
    if left:
        raise EngineError(f"{folder} still has {', '.join(left)} mounted: not removed.")
    shutil.rmtree(folder)


def last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def ensure_uv(docker: Docker, version: str, uv: Path) -> str:
    """`ghcr.io/astral-sh/uv:VERSION` (its /uv and /uvx), pulled, or made from this uv."""
    name = f"ghcr.io/astral-sh/uv:{version}"
    if docker.has_image(name):
        origin = docker.labels(name).get(ORIGIN, "pulled from its registry")
        origin = f"{name}: {origin} (cached)"
    elif (pulled := docker("pull", name, timeout=PULL_TIMEOUT, check=False)).returncode == 0:
        origin = f"{name}: pulled from its registry"
    else:
        made = f"made from this machine's uv {version} ({uv})"
        with tempfile.TemporaryDirectory(prefix="prodserver-uv-") as folder:
            for binary in ("uv", "uvx"):
                shutil.copy2(uv.with_name(binary), Path(folder, binary))
            archive = f"{folder}/uv.tar"
            run(["tar", "-C", folder, "-cf", archive, "uv", "uvx"], timeout=120)
            docker("import", f'--change=LABEL {ORIGIN}="{made}"', archive, name)
        origin = f"{name}: {made} (no registry answered: {last_line(pulled.stderr)})"
    if origin not in ORIGINS:
        ORIGINS.append(origin)
    return name
