"""Each hostile setting that passed `check` and then crashed is now a check error.

For every case: `manage.py check` exits 1 with the message, and `--dry-run`, `--list`
and every `--export` exit non-zero with an error, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings

from tests.support import EXAMPLE, PACKAGE_FOLDER, REPO, write_project
from tests.unit.hostile_support import (
    EXPORT_FORMATS,
    SYNTAX_ERROR_MODULE,
    manage,
    write_syntax_error_module,
)

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
HOSTILE = "tests.unit.hostile_backends"


def gunicorn(**definition: object) -> dict[str, object]:
    return {"web": {"BACKEND": GUNICORN, **definition}}


def backend(path: str) -> dict[str, object]:
    return {"web": {"BACKEND": path}}


TIMEOUT_RULE = "STOP_TIMEOUT must be a number of seconds greater than 0 and at most 86400 (a day)"
NAME_RULE = (
    "the name cannot be used: a process name is letters, digits, '-', '_' and '.', not "
    "starting with '-' or '.', at most 64 characters."
)
CASES = {
    "STOP_TIMEOUT nan": (
        gunicorn(STOP_TIMEOUT=float("nan")),
        f"(prodserver.E005) Process 'web': {TIMEOUT_RULE}, got nan.",
    ),
    "STOP_TIMEOUT inf": (
        gunicorn(STOP_TIMEOUT=float("inf")),
        f"(prodserver.E005) Process 'web': {TIMEOUT_RULE}, got inf.",
    ),
    "STOP_TIMEOUT 10**400": (gunicorn(STOP_TIMEOUT=10**400), f"Process 'web': {TIMEOUT_RULE}"),
    "STOP_TIMEOUT over a day": (
        gunicorn(STOP_TIMEOUT=86401),
        f"(prodserver.E005) Process 'web': {TIMEOUT_RULE}, got 86401.",
    ),
    "ENV value with a NUL": (
        gunicorn(ENV={"GREETING": "a\x00b"}),
        "(prodserver.E005) Process 'web': ENV['GREETING'] cannot be set in an environment: a "
        "value holds no NUL character and no lone surrogate, got 'a\\x00b'.",
    ),
    "ENV value with a lone surrogate": (
        gunicorn(ENV={"GREETING": "a\ud800b"}),
        "ENV['GREETING'] cannot be set in an environment",
    ),
    "ENV name with a NUL": (
        gunicorn(ENV={"A\x00B": "x"}),
        "(prodserver.E005) Process 'web': ENV has a bad variable name 'A\\x00B'",
    ),
    "ARGS key not a string": (
        gunicorn(ARGS={1: 2}),
        "(prodserver.E005) Process 'web': ARGS keys are option names (strings), got 1.",
    ),
    "a port of a superscript digit": (
        gunicorn(ARGS={"bind": "127.0.0.1:\u00b2"}),
        "(prodserver.E008) Process 'web': the address '127.0.0.1:\u00b2': the port '\u00b2' is "
        "not a number from 0 to 65535.",
    ),
    "a port out of range": (
        gunicorn(ARGS={"bind": "127.0.0.1:99999"}),
        "the port '99999' is not a number from 0 to 65535.",
    ),
    "BACKEND starting with ..": (
        backend("..backends.gunicorn.GunicornServer"),
        "(prodserver.E004) Process 'web': BACKEND '..backends.gunicorn.GunicornServer' is not a "
        "dotted path to a class",
    ),
    "worker class starting with ..": (
        gunicorn(ARGS={"worker-class": "..workers.Worker"}),
        "Process 'web': BACKEND 'django_prodserver.backends.gunicorn.GunicornServer' failed "
        "to plan the process: TypeError:",
    ),
    "a backend module with a syntax error": (
        backend(f"{SYNTAX_ERROR_MODULE}.Broken"),
        f"(prodserver.E004) Process 'web': BACKEND '{SYNTAX_ERROR_MODULE}.Broken' cannot be "
        f"imported: importing module '{SYNTAX_ERROR_MODULE}' raised SyntaxError: invalid syntax",
    ),
    "a backend that raises in __init__": (
        backend(f"{HOSTILE}.RaisesInInit"),
        f"(prodserver.E012) Process 'web': BACKEND '{HOSTILE}.RaisesInInit' failed to be "
        f"constructed: RuntimeError: cannot reach the license server",
    ),
    "a backend that raises in plan()": (
        backend(f"{HOSTILE}.RaisesInPlan"),
        f"(prodserver.E012) Process 'web': BACKEND '{HOSTILE}.RaisesInPlan' failed to plan the "
        f"process: KeyError: 'PORT'",
    ),
    "a plan() that returns None": (
        backend(f"{HOSTILE}.PlansNone"),
        f"(prodserver.E012) Process 'web': BACKEND '{HOSTILE}.PlansNone'.plan() must return a "
        f"Plan, got None.",
    ),
    "a plan with no command": (
        backend(f"{HOSTILE}.PlansNoCommand"),
        f"(prodserver.E012) Process 'web': BACKEND '{HOSTILE}.PlansNoCommand'.plan() must give "
        f"a Plan a non-empty argv, got ().",
    ),
    "a plan with a NUL in a word": (
        backend(f"{HOSTILE}.PlansANul"),
        "gave a command line word that cannot be passed to a process: '--name=a\\x00b'",
    ),
    "a plan with a number in its environment": (
        backend(f"{HOSTILE}.PlansABadEnvironment"),
        "gave an environment variable that cannot be set: 'PORT'=8000.",
    ),
    "the base class itself": (
        backend("django_prodserver.backends.base.Backend"),
        "(prodserver.E004) Process 'web': BACKEND 'django_prodserver.backends.base.Backend' is "
        "a base class that plans no process",
    ),
    "a process named --all": (
        {"--all": {"BACKEND": GUNICORN}},
        f"(prodserver.E013) Process '--all': {NAME_RULE}",
    ),
    "a process named ../../x": (
        {"../../x": {"BACKEND": GUNICORN}},
        f"(prodserver.E013) Process '../../x': {NAME_RULE}",
    ),
    "a process named with a space": (
        {"web 1": {"BACKEND": GUNICORN}},
        f"(prodserver.E013) Process 'web 1': {NAME_RULE}",
    ),
    "a process name too long": ({"w" * 65: {"BACKEND": GUNICORN}}, "at most 64 characters"),
    "a process name not a string": (
        {1: {"BACKEND": GUNICORN}},
        "(prodserver.E013) Process 1: a process name must be a string, got int.",
    ),
}


@pytest.fixture(autouse=True)
def syntax_error_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_syntax_error_module(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    monkeypatch.delitem(sys.modules, SYNTAX_ERROR_MODULE, raising=False)


@pytest.mark.parametrize(("processes", "message"), CASES.values(), ids=CASES.keys())
def test_check_reports_it(processes, message):
    with override_settings(PRODUCTION_PROCESSES=processes):
        outcome = manage("check", "--tag=prodserver")

    assert outcome.status == 1
    assert message in outcome.stderr


@pytest.mark.parametrize(("processes", "message"), CASES.values(), ids=CASES.keys())
def test_no_command_goes_on_with_it(processes, message):
    name = str(next(iter(processes)))
    message = message.partition(") ")[2] or message  # a command's error has no check id
    with override_settings(PRODUCTION_PROCESSES=processes):
        runs = {
            "--dry-run": manage("prodserver", "--dry-run", "--", name)
            if name.startswith("-")
            else manage("prodserver", "--dry-run", name),
            "--list": manage("prodserver", "--list"),
            **{f: manage("prodserver", "--export", f) for f in EXPORT_FORMATS},
        }

    for what, outcome in runs.items():
        assert outcome.status != 0, f"{what} exited 0:\n{outcome.output}"
        assert message in outcome.output, f"{what}:\n{outcome.output}"


def test_every_problem_of_a_definition_comes_in_one_round():
    processes = {
        "web": {
            "BACKEND": GUNICORN,
            "ARGS": {"workers": "four"},
            "PORT": 8000,
            "ENV": {"A": "\x00"},
            "STOP_TIMEOUT": float("nan"),
            "RESTART": "sometimes",
        },
        "worker": {"BACKEND": 3, "STOP_SIGNAL": "SIGNOPE"},
    }
    with override_settings(PRODUCTION_PROCESSES=processes):
        outcome = manage("check", "--tag=prodserver")

    assert outcome.status == 1
    for expected in [
        "(prodserver.E006) Process 'web': unknown key 'PORT'",
        "(prodserver.E005) Process 'web': ENV['A'] cannot be set",
        "(prodserver.E005) Process 'web': STOP_TIMEOUT must be",
        "(prodserver.E005) Process 'web': RESTART must be one of",
        # The options of a definition whose BACKEND and ARGS can be read: the same round.
        "(prodserver.E008) Process 'web': gunicorn rejects the options: argument -w/--workers",
        "(prodserver.E003) Process 'worker': BACKEND must be a string, got 3",
        "(prodserver.E005) Process 'worker': STOP_SIGNAL must name a signal",
    ]:
        assert expected in outcome.stderr, outcome.stderr


def test_every_problem_is_in_the_error_of_a_command():
    processes = {"web": {"BACKEND": 3, "STOP_TIMEOUT": 0, "ARGS": 3}}
    with override_settings(PRODUCTION_PROCESSES=processes):
        outcome = manage("prodserver", "--export", "procfile")

    assert outcome.status == 1
    assert "BACKEND must be a string" in outcome.stderr
    assert "ARGS must be a dict" in outcome.stderr
    assert "STOP_TIMEOUT must be" in outcome.stderr


@pytest.mark.parametrize("word", ["--bind=a\x00b", "--bind=\udcff\ud800"])
def test_a_typed_word_no_process_can_take_is_an_error(word):
    with override_settings(PRODUCTION_PROCESSES=gunicorn()):
        outcome = manage("prodserver", "web", "--dry-run", word)

    assert outcome.status == 1
    assert "typed after the name cannot be passed to a process" in outcome.stderr


@pytest.mark.parametrize("value", ["web=0", "web=1001", "web=" + "9" * 5000, "web=\u0663"])
def test_replicas_out_of_range_are_an_error(value):
    processes = {"web": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8000"}}}
    with override_settings(PRODUCTION_PROCESSES=processes):
        outcome = manage("prodserver", "--export", "compose", f"--replicas={value}")

    assert outcome.status == 1
    assert "--replicas takes NAME=N with N a whole number of at least 1 (and at most 1000)" in (
        outcome.stderr
    )


def test_an_output_folder_with_a_nul_is_an_error(tmp_path):
    with override_settings(PRODUCTION_PROCESSES=gunicorn()):
        outcome = manage("prodserver", "--export", "procfile", f"--output={tmp_path}/a\x00b")

    assert outcome.status == 1
    assert "a folder's name cannot hold a NUL character." in outcome.stderr


# Through a real manage.py: the user's own view, stderr and exit status.

REAL = {
    "--all": ({"--all": {"BACKEND": GUNICORN}}, ["prodserver", "--all"], "prodserver.E013"),
    "nan": (
        f'{{"web": {{"BACKEND": "{GUNICORN}", "STOP_TIMEOUT": float("nan")}}}}',
        ["prodserver", "--export", "systemd"],
        "STOP_TIMEOUT must be a number of seconds greater than 0",
    ),
    "syntax error": (
        backend(f"{SYNTAX_ERROR_MODULE}.Broken"),
        ["check"],
        "raised SyntaxError: invalid syntax",
    ),
    "plan None": (backend(f"{HOSTILE}.PlansNone"), ["prodserver", "web"], "must return a Plan"),
}


@pytest.mark.parametrize(("processes", "argv", "said"), REAL.values(), ids=REAL.keys())
def test_manage_py_says_it_without_a_traceback(tmp_path, processes, argv, said):
    project = write_project(tmp_path, processes)
    write_syntax_error_module(tmp_path)
    path = ":".join(map(str, [tmp_path, EXAMPLE, REPO, PACKAGE_FOLDER]))
    started = time.monotonic()
    result = project.manage(*argv, env={"PYTHONPATH": path}, timeout=60)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert said in result.stderr
    # `prodserver --all` with a process named `--all` once spawned runners without end.
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    "argv",
    [
        ("prodserver", "--dry-run", "--", "web"),  # no name: the first process
        ("prodserver", "web", "--dry-run"),
        ("prodserver", "web", "--dry-run", "--skip-checks"),
    ],
)
def test_a_name_that_cannot_be_used_stops_every_start(argv):
    """Found by the property test: the empty name of another process let `web` start."""
    definition = gunicorn()["web"]
    processes = {"web": definition, "": definition}
    with override_settings(PRODUCTION_PROCESSES=processes):
        outcome = manage(*argv)

    assert outcome.status == 1
    assert "Process '': the name cannot be used" in outcome.stderr
