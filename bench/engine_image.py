"""The exported Dockerfile's image against a hand-written one of the same project.

The example project's `web` (gunicorn), built on a dockerd of its own as the engine tests
do it (root; python:X-slim made from Debian's packages when no registry answers):

- image size: the exported Dockerfile's against the hand-written one of docs/guide-docker.md;
- warm build: the exported Dockerfile built again after a change of code (the dependency
  layer comes from the cache), median of ROUNDS;
- up to healthy: from `docker run` to the HEALTHCHECK's first `healthy`, median of ROUNDS.

Run from the repository root as root: `python bench/engine_image.py`. Writes
bench/results/engine-image.md.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness import RESULTS  # noqa: E402
from harness.tables import markdown_table, publish, report_head  # noqa: E402

from tests.engines import images  # noqa: E402
from tests.engines.conftest import ENGINES, example_settings  # noqa: E402
from tests.engines.dockerd import Docker, running_dockerd  # noqa: E402
from tests.engines.projects import checkout_wheel, example_context  # noqa: E402
from tests.support import export_files  # noqa: E402

ROUNDS = 3
PORT = 8000
HAND_WRITTEN = """\
FROM {base}
ENV PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
COPY wheels/ wheels/
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --create-home app
USER app
EXPOSE 8000
CMD ["python", "manage.py", "prodserver", "web", "--settings=engine_settings"]
"""


def size_mb(docker: Docker, image: str) -> float:
    return int(docker("image", "inspect", "--format={{.Size}}", image).stdout) / 1e6


def build_seconds(docker: Docker, folder: Path, tag: str, dockerfile: str = "Dockerfile") -> float:
    started = time.monotonic()
    docker("build", "--quiet", f"--file={folder / dockerfile}", f"--tag={tag}", str(folder))
    return time.monotonic() - started


def healthy_seconds(docker: Docker, image: str) -> float:
    container = docker("run", "--detach", image).stdout.strip()
    try:
        return docker.wait_until_healthy(container, timeout=120)
    finally:
        docker("rm", "--force", container)


def main() -> None:
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    with (
        tempfile.TemporaryDirectory(prefix="pse-bench-") as state,
        tempfile.TemporaryDirectory() as work,
        running_dockerd(ENGINES / "docker", Path(state)) as docker,
    ):
        base = images.ensure(docker, images.python_slim(python))
        wheel = checkout_wheel(Path(work) / "wheel")
        project = example_context(Path(work) / "example", wheel, example_settings(PORT))
        export_files(project, "dockerfile", project.directory, "web")
        (project.directory / "Handwritten").write_text(HAND_WRITTEN.format(base=base))
        build_seconds(docker, project.directory, "bench-exported")
        build_seconds(docker, project.directory, "bench-hand", "Handwritten")
        warm = []
        for round in range(ROUNDS):
            (project.directory / "pages" / "changed.py").write_text(f"ROUND = {round}\n")
            warm.append(build_seconds(docker, project.directory, "bench-exported"))
        healthy = [healthy_seconds(docker, "bench-exported") for _ in range(ROUNDS)]
        exported, hand = size_mb(docker, "bench-exported"), size_mb(docker, "bench-hand")
    rows = [
        f"image size (MB) | {exported:.1f} | {hand:.1f} | {exported / hand:.2f}x",
        f"warm build after a code change (s) | {statistics.median(warm):.1f} | |",
        f"`docker run` to healthy (s) | {statistics.median(healthy):.1f} | |",
    ]
    lines = [
        *report_head(
            "The exported Dockerfile's image",
            f"The example's web, median of {ROUNDS} rounds; dockerd 20.10, {base} as the "
            f"engine tests make it.",
            ["django", "gunicorn"],
        ),
        "",
        *markdown_table("metric | exported | hand-written (guide-docker) | ratio", "lrrr", rows),
    ]
    publish("\n".join(lines) + "\n", RESULTS / "engine-image.md")


if __name__ == "__main__":
    main()
