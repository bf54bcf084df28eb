"""Exporting the files of a real project, as a user does, through `manage.py`."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support import EXAMPLE, REPO, Project


def export_files(project: Project, format: str, output: Path, *args: str) -> list[Path]:
    """Run `prodserver --export FORMAT --output OUTPUT ARGS`; the files it says it wrote."""
    # The repository on the path too: some tests' processes use the tests' own backends.
    path = os.pathsep.join(map(str, [project.directory, EXAMPLE, REPO]))
    result = project.manage(
        "prodserver", "--export", format, f"--output={output}", *args, env={"PYTHONPATH": path}
    )
    assert result.returncode == 0, result.stderr
    written = [Path(line.removeprefix("Wrote ")) for line in result.stdout.splitlines()]
    assert written, result.stdout
    assert all(path.is_file() for path in written), result.stdout
    return written
