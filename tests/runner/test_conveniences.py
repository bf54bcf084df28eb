"""The runner's conveniences for real: env files, a port per web process, --log-format."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import MANAGE, Project, Running, free_base_port, get

pytestmark = pytest.mark.server

WAITRESS = "django_prodserver.backends.waitress.WaitressServer"
GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
BACKENDS = "runner_backends"
GREETING_SETTING = 'import os\nGREETING_AT_IMPORT = os.environ.get("GREETING")'
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Callable[..., Project]:
    """The test backends as `runner_backends`, and manage.py in the project's own folder
    (where `.env` is looked for)."""

    def make(processes: dict[str, Any], extra: str = "") -> Project:
        made = make_project(processes, extra)
        shutil.copy(
            Path(__file__).with_name("project_backends.py"), made.directory / "runner_backends.py"
        )
        shutil.copy(MANAGE, made.directory / "manage.py")
        made.manage_py = made.directory / "manage.py"
        return made

    return make


def backend(name: str, **definition: Any) -> dict[str, Any]:
    return {"BACKEND": f"{BACKENDS}.{name}", **definition}


def test_env_files_reach_the_children_and_their_settings_the_real_environment_wins(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project(
        {"one": backend("ShowEnvironment"), "two": backend("ShowEnvironment")},
        GREETING_SETTING,
    )
    (made.directory / ".env").write_text(
        "GREETING=from-dot-env\nexport DB_PASSWORD='hunter 2'\n"
        "DATABASE_URL=postgres://app:hunter3@db/app  # the database\n"
    )
    running = made.start("prodserver", "one", "two")
    started.append(running)
    assert running.wait_for_output("two started", timeout=60), running.output
    assert running.wait_for_output("settings=from-dot-env environ=from-dot-env", 60)
    first_lines = running.output.splitlines()[:3]
    assert f"Environment files read: {made.directory / '.env'} (3 variables)." in first_lines[0]
    assert "From the files: GREETING, DB_PASSWORD, DATABASE_URL." in first_lines[1]
    assert running.stop()[0] == 0

    # --env-file replaces .env; the later file wins; the real environment wins over both.
    (made.directory / "first.env").write_text("GREETING=first\nOTHER=first\n")
    (made.directory / "second.env").write_text("GREETING=second\n")
    named = made.start(
        "prodserver", "one", "two", "--env-file", "first.env", "--env-file=second.env"
    )
    started.append(named)
    assert named.wait_for_output("settings=second environ=second", 60), named.output
    assert (
        "Environment files read: first.env, second.env (2 variables; the later file wins)."
        in named.output
    )
    assert str(made.directory / ".env") not in named.output
    assert named.stop()[0] == 0
    real = made.start("prodserver", "one", "two", env={"GREETING": "real"})
    started.append(real)
    assert real.wait_for_output("settings=real environ=real", 60), real.output
    assert "Kept from the real environment, which wins: GREETING." in real.output
    assert "from-dot-env" not in real.output
    assert real.stop()[0] == 0


def test_one_process_reads_env_files_before_its_settings(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project({"one": backend("ShowEnvironment")}, GREETING_SETTING)
    (made.directory / "greeting.env").write_text("GREETING=for-one\n")
    running = made.start("prodserver", "one", "--env-file", "greeting.env")
    started.append(running)
    assert running.wait_for_output("settings=for-one environ=for-one", 60), running.output
    assert running.output.count("Environment files read:") == 1, running.output
    assert running.stop()[0] == 0


def test_secrets_of_env_files_are_masked_in_a_dry_run_and_in_errors(
    project: Callable[..., Project],
) -> None:
    made = project({"one": backend("ShowEnvironment"), "two": backend("ShowEnvironment")})
    (made.directory / ".env").write_text(
        "DB_PASSWORD='hunter 2'\nDATABASE_URL=postgres://app:hunter3@db/app\nDEBUG=1\n"
    )
    dry = made.manage("prodserver", "one", "two", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "hunter" not in dry.stdout + dry.stderr
    assert "  DB_PASSWORD=********" in dry.stderr
    assert "  DATABASE_URL=postgres://app:********@db/app" in dry.stderr
    assert "  DEBUG=1" in dry.stderr

    (made.directory / "broken.env").write_text("DEBUG=1\nSTRIPE_LIVE_KEY sk_live_abc\n")
    broken = made.manage("prodserver", "one", "two", "--env-file", "broken.env")
    assert broken.returncode == 1
    assert broken.stderr.strip() == (
        "CommandError: broken.env, line 2: expected NAME=VALUE (NAME: letters, digits and _, "
        "not starting with a digit); the line has no such shape."
    )
    missing = made.manage("prodserver", "one", "--env-file", "missing.env")
    assert missing.returncode == 1
    assert "CommandError: --env-file missing.env: no such file." in missing.stderr
    assert "Traceback" not in broken.stderr + missing.stderr
    wrong = made.manage("prodserver", "one", "--list", "--env-file", "x.env")
    assert wrong.returncode == 1
    assert "--list shows the processes as configured; leave out --env-file x.env" in wrong.stderr


def test_each_web_process_without_an_address_gets_its_own_port(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project(
        {
            "web": {"BACKEND": GUNICORN},
            "tasks": backend("ShowEnvironment"),
            "admin": {"BACKEND": WAITRESS},
        }
    )
    base = free_base_port()
    running = made.start("prodserver", "web", "tasks", "admin", "--port", str(base))
    started.append(running)
    running.wait_until_serving(f"127.0.0.1:{base}")
    running.wait_until_serving(f"127.0.0.1:{base + 100}")
    assert get(f"127.0.0.1:{base}")[0] == 200
    said = (
        "PORT given to each web process without an address of its own: "
        f"web {base}, admin {base + 100}."
    )
    assert said in running.output.splitlines()[0], running.output
    assert running.stop()[0] == 0

    # From $PORT, and checked against the addresses configured.
    other = made.start("prodserver", "web", "admin", env={"PORT": str(base)})
    started.append(other)
    other.wait_until_serving(f"127.0.0.1:{base + 100}")
    assert other.stop()[0] == 0


def test_a_given_port_clashing_with_a_configured_address_is_refused(
    project: Callable[..., Project],
) -> None:
    base = free_base_port()
    made = project(
        {
            "web": {"BACKEND": GUNICORN},
            "admin": {"BACKEND": WAITRESS, "ARGS": {"listen": f"127.0.0.1:{base}"}},
        }
    )
    result = made.manage("prodserver", "web", "admin", "--port", str(base))
    assert result.returncode == 1
    assert f"Processes 'web' and 'admin' both use the address 0.0.0.0:{base}" in result.stderr


def test_json_lines_parse_and_hold_each_line_whole(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project(
        {
            "one": backend("NumberedLines", ARGS={"count": 300}),
            "two": backend("NumberedLines", ARGS={"count": 300}),
        }
    )
    (made.directory / ".env").write_text("GREETING=hello\n")
    running = made.start("prodserver", "one", "two", "--log-format", "json")
    started.append(running)
    assert running.popen.wait(60) == 0, running.output
    objects = [json.loads(line) for line in running.output.splitlines()]
    assert objects[0]["line"].startswith("Environment files read:")
    assert {item["stream"] for item in objects} == {"runner", "output"}
    for item in objects:
        assert set(item) == {"time", "process", "stream", "line"}
        assert TIME.fullmatch(item["time"])
        assert (item["process"] == "prodserver") == (item["stream"] == "runner")
    for name in ("one", "two"):
        lines = [item["line"] for item in objects if item["process"] == name]
        assert lines[-1] == f"{name} end without newline"
        numbered = [int(line.split()[1]) for line in lines[:-1]]
        assert numbered == list(range(300))
        assert max(len(line) for line in lines) == 200_000


def test_raw_lines_have_no_prefix(project: Callable[..., Project], started: list[Running]) -> None:
    made = project(
        {
            "one": backend("NumberedLines", ARGS={"count": 50}),
            "two": backend("NumberedLines", ARGS={"count": 50}),
        }
    )
    running = made.start("prodserver", "one", "two", "--log-format", "raw")
    started.append(running)
    assert running.popen.wait(60) == 0, running.output
    lines = running.output.splitlines()
    numbered = [line for line in lines if re.match(r"(one|two) \d{7} x+$", line)]
    assert len(numbered) == 100
    assert "one started (pid " in running.output
    assert not [line for line in lines if " | " in line]
    assert not [line for line in lines if re.match(r"\d\d:\d\d:\d\d ", line)]


def test_one_process_with_a_log_format_runs_under_the_runner(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project({"one": backend("NumberedLines", ARGS={"count": 5})})
    running = made.start("prodserver", "one", "--log-format=json")
    started.append(running)
    assert running.popen.wait(60) == 0, running.output
    objects = [json.loads(line) for line in running.output.splitlines()]
    assert [item["line"] for item in objects if item["process"] == "one"][:2] == [
        "one 0000000 " + "x" * 48,
        "one 0000001 " + "x" * 48,
    ]
    bad = made.manage("prodserver", "one", "--log-format", "xml")
    assert bad.returncode != 0
    assert "argument --log-format: invalid choice: 'xml'" in bad.stderr
