"""The commands A and B run in example/: their environment, the `--dry-run` line, how they
are shown in a report."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from harness import EXAMPLE, HOST, BenchError

SETTINGS = "exampleproject.settings"
PORT_PLACEHOLDER = "PORT"


def environment(
    updates: Mapping[str, str],
    *,
    drop: Collection[str] = (),
    drop_prefixes: tuple[str, ...] = (),
) -> dict[str, str]:
    """This process's environment without `drop` and `drop_prefixes*`, with `updates`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in drop and not name.startswith(drop_prefixes)
    }
    env.update(updates)
    return env


def supervised_project(
    directory: Path, settings: str, names: Sequence[str], updates: Mapping[str, str]
) -> dict[str, str]:
    """`settings` as bench_settings.py in `directory`, and a Procfile there of the
    `python manage.py prodserver NAME` lines (for honcho); the environment that runs
    either from example/, with the package that the script imported and `updates`."""
    import django_prodserver

    (directory / "bench_settings.py").write_text(settings)
    (directory / "Procfile").write_text(
        "".join(f"{name}: {sys.executable} manage.py prodserver {name}\n" for name in names)
    )
    package_folder = str(Path(django_prodserver.__file__).resolve().parents[1])
    return environment(
        {
            # The package the script imported (PYTHONPATH=src: the working copy's).
            "PYTHONPATH": os.pathsep.join([str(directory), str(EXAMPLE), package_folder]),
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "XDG_RUNTIME_DIR": str(directory),
            "EXAMPLE_DATABASE": str(directory / "db.sqlite3"),
            "PYTHONUNBUFFERED": "1",
            **updates,
        },
        drop=("PORT", "WEB_CONCURRENCY"),
    )


def server_env(
    run_dir: Path,
    port: int,
    *,
    drop: Collection[str] = ("GUNICORN_CMD_ARGS",),
    drop_prefixes: tuple[str, ...] = (),
) -> dict[str, str]:
    """A web server's environment for one run, with its own runtime folder and database.

    GUNICORN_CMD_ARGS is dropped: both variants would read it, and the runs would depend on
    the shell they were started from.
    """
    runtime_dir = run_dir / "xdg"
    runtime_dir.mkdir(mode=0o700)
    return environment(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "XDG_RUNTIME_DIR": str(runtime_dir),  # gunicorn 27's control socket goes here
            "EXAMPLE_DATABASE": str(run_dir / "db.sqlite3"),
            "EXAMPLE_BIND": f"{HOST}:{port}",
        },
        drop=drop,
        drop_prefixes=drop_prefixes,
    )


def venv_script(name: str) -> str:
    # Next to sys.executable without resolving symlinks: the venv's bin/ folder.
    script = Path(sys.executable).parent / name
    if not script.exists():
        raise BenchError(f"{script} not found: run this with the project's venv python.")
    return str(script)


def dry_run_line(argv: Sequence[str], env: dict[str, str], program: str = "") -> list[str]:
    """The words of the line that `argv --dry-run` prints, run from example/.

    With `program`, that line must start with it.
    """
    printed = subprocess.run(
        [*argv, "--dry-run"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if printed.returncode != 0:
        raise BenchError(f"--dry-run failed ({printed.returncode}): {printed.stderr.strip()}")
    words = shlex.split(printed.stdout.strip())
    if not words:
        raise BenchError("--dry-run printed nothing")
    if program and words[0] != program:
        raise BenchError(f"--dry-run printed no {program} command: {printed.stdout!r}")
    return words


def shown(argv: Sequence[str], port: int | None = None) -> str:
    """argv as a shell line, paths relative to example/, and `port` as PORT."""
    words = [os.path.relpath(word, EXAMPLE) if word.startswith("/") else word for word in argv]
    if port is not None:
        words = [
            word.replace(f"{HOST}:{port}", f"{HOST}:{PORT_PLACEHOLDER}").replace(
                f"--port={port}", f"--port={PORT_PLACEHOLDER}"
            )
            for word in words
        ]
    return shlex.join(words)
