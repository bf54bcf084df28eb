"""Build contexts: the example project as a user's folder, with this checkout's package.

The example's requirements.txt names this package as a wheel in `wheels/` (the package
index's django-prodserver is another project): the context gets the wheel of this
checkout there, as `pip wheel --no-deps --wheel-dir example/wheels .` makes it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.engines.dockerd import run
from tests.support import EXAMPLE, REPO, Project

# What the example project writes when it runs on this machine: not part of it.
NOT_THE_PROJECT = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "db.sqlite3", "celerybeat-schedule*", "beat-effects.txt",
    "task-log.txt", "wheels", "output-*.log", "test_settings.py",
)  # fmt: skip
SETTINGS = "engine_settings"


def checkout_wheel(folder: Path) -> Path:
    """The wheel of this checkout (built as pip builds it for an install)."""
    run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", f"--wheel-dir={folder}",
         str(REPO)],
        timeout=300,
    )  # fmt: skip
    [wheel] = folder.glob("django_prodserver-*.whl")
    return wheel


def wheel_version(wheel: Path) -> str:
    """The version in a wheel's file name (name-version-tags.whl)."""
    return wheel.name.split("-")[1]


def example_context(folder: Path, wheel: Path, settings: str) -> Project:
    """The example project copied into `folder`, the wheel in wheels/, `settings` beside it.

    The project's settings module is `engine_settings`, on top of the example's.
    """
    named = f"./wheels/{wheel.name}["
    if named not in (EXAMPLE / "requirements.txt").read_text():
        raise AssertionError(
            f"example/requirements.txt must install {named}...] (this checkout's version "
            f"{wheel_version(wheel)}): update the line that names the wheel."
        )
    shutil.copytree(EXAMPLE, folder, ignore=NOT_THE_PROJECT)
    (folder / "wheels").mkdir()
    shutil.copy2(wheel, folder / "wheels" / wheel.name)
    (folder / f"{SETTINGS}.py").write_text(
        f"from exampleproject.settings import *  # noqa: F403\n{settings}\n"
    )
    return Project(folder, module=SETTINGS, manage_py=folder / "manage.py")
