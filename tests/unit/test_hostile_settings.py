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
RUNSERVER = "django_prodserver.backends.dev.django_runserver.DjangoRunserver"
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
    "a number too long to write out": (
        gunicorn(ARGS={"workers": 10**5000}),
        "(prodserver.E008) Process 'web': `workers` is a number larger than any option of "
        "gunicorn takes (at most 9223372036854775807, a 64-bit integer), got an integer too "
        "long to write out.",
    ),
    "a port of an Arabic-Indic digit": (
        {"web": {"BACKEND": RUNSERVER, "ARGS": {"addrport": "127.0.0.1:\u0663"}}},
        "(prodserver.E008) Process 'web': `addrport` is a port or host:port such as "
        "'127.0.0.1:8000' (a port from 1 to 65535), got '127.0.0.1:\u0663'.",
    ),
    "a HEALTH timeout too long to write out": (
        gunicorn(HEALTH={"TIMEOUT": 10**5000}),
        "(prodserver.E005) Process 'web': HEALTH['TIMEOUT'] must be a number of seconds above 0 "
        "and at most 3600, got an integer too long to write out.",
    ),
    "a graceful timeout no engine can wait for": (
        gunicorn(ARGS={"graceful-timeout": "9" * 400}),
        "(prodserver.E008) Process 'web': gunicorn's graceful timeout is inf seconds; it must be "
        "from 0 to 86400 (a day).",
    ),
    "a duck-typed backend without plan()": (
        backend(f"{HOSTILE}.DuckWithoutPlan"),
        f"(prodserver.E004) Process 'web': BACKEND '{HOSTILE}.DuckWithoutPlan' is not a backend: "
        f"it lacks a plan() method. A backend subclasses django_prodserver.backends.base.Backend, "
        f"or provides its API (see 'Writing a backend' in the docs).",
    ),
    "a duck-typed backend of no kind": (
        backend(f"{HOSTILE}.DuckOfNoKind"),
        "it lacks a `kind` of 'web' or 'worker' (it has 'database').",
    ),
    "a duck-typed backend that answers wrongly": (
        backend(f"{HOSTILE}.DuckAnswersWrongly"),
        f"(prodserver.E012) Process 'web': BACKEND '{HOSTILE}.DuckAnswersWrongly'.listen_address() "
        f"must return an Address or None, got '127.0.0.1:8000'.",
    ),
    "a BACKEND that is a function": (
        backend(f"{HOSTILE}.not_a_class"),
        f"(prodserver.E004) Process 'web': BACKEND '{HOSTILE}.not_a_class' is a function, not a "
        f"class: a BACKEND names a backend class, such as "
        f"'django_prodserver.backends.gunicorn.GunicornServer'.",
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
    "RESOURCES not a dict": (
        gunicorn(RESOURCES="big"),
        "(prodserver.E005) Process 'web': RESOURCES must be a dict, got 'big'.",
    ),
    "RESOURCES unknown key": (gunicorn(RESOURCES={"GPU": 1}), "RESOURCES has an unknown key 'GPU'"),
    "RESOURCES CPU a bool": (
        gunicorn(RESOURCES={"CPU": True}),
        "(prodserver.E005) Process 'web': RESOURCES['CPU'] must be cores or millicores such as "
        "0.5, 2 or '250m', got True.",
    ),
    "RESOURCES CPU nan": (gunicorn(RESOURCES={"CPU": float("nan")}), "RESOURCES['CPU'] must be"),
    "RESOURCES CPU zero": (
        gunicorn(RESOURCES={"CPU": "0m"}),
        "RESOURCES['CPU'] must be a whole number of millicores from 1m to 1024 cores, got '0m'.",
    ),
    "RESOURCES CPU too many cores": (gunicorn(RESOURCES={"CPU_LIMIT": 10**6}), "1024 cores"),
    "RESOURCES MEMORY 10**5000": (
        gunicorn(RESOURCES={"MEMORY": 10**5000}),
        "RESOURCES['MEMORY'] must be bytes, or a number with a unit such as '512Mi' or '1Gi', "
        "got an integer too long to write out.",
    ),
    "RESOURCES MEMORY unit": (
        gunicorn(RESOURCES={"MEMORY": "1Pi"}),
        "RESOURCES['MEMORY'] must be bytes, or a number with a unit (Ki, Mi, Gi, Ti, k, M, G, "
        "T) such as '512Mi', got '1Pi'.",
    ),
    "RESOURCES request above its limit": (
        gunicorn(RESOURCES={"MEMORY": "1Gi", "MEMORY_LIMIT": "512Mi"}),
        "(prodserver.E005) Process 'web': RESOURCES['MEMORY'] (1Gi) is more than "
        "RESOURCES['MEMORY_LIMIT'] (512Mi): a process cannot be guaranteed more than it may use.",
    ),
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


def test_a_duck_typed_backend_is_used_by_every_command(tmp_path):
    """It once crashed --dry-run: `'DuckTyped' object has no attribute 'environment_beside'`."""
    with override_settings(PRODUCTION_PROCESSES=backend(f"{HOSTILE}.DuckTyped")):
        runs = {
            "check": manage("check", "--tag=prodserver"),
            "--dry-run": manage("prodserver", "web", "--dry-run", "--workers=2"),
            "--list": manage("prodserver", "--list"),
            **{
                f: manage("prodserver", "--export", f, f"--output={tmp_path / f}")
                for f in EXPORT_FORMATS
            },
        }

    for what, outcome in runs.items():
        assert outcome.status == 0, f"{what}:\n{outcome.output}"
    assert runs["--dry-run"].stdout.strip() == "duck-server --port=8000 --workers=2"
    assert "web   web   tests.unit.hostile_backends.DuckTyped  duck-server" in runs["--list"].stdout


def test_a_duck_typed_backends_failure_beside_others_names_it():
    processes = {**backend(f"{HOSTILE}.DuckFailsBesideOthers"), "other": {"BACKEND": GUNICORN}}
    with override_settings(PRODUCTION_PROCESSES=processes):
        outcome = manage("prodserver", "web", "other", "--dry-run")

    assert outcome.status == 1
    assert (
        f"BACKEND '{HOSTILE}.DuckFailsBesideOthers' failed to answer environment_beside(): "
        f"RuntimeError: no environment today"
    ) in outcome.stderr


@pytest.mark.parametrize("format", ["kubernetes", "dockerfile"])
@pytest.mark.parametrize("user", ["\u00b2", "\u0663", "9" * 5000, "-1", "2147483648"])
def test_run_as_takes_a_numeric_user_id_in_ascii_digits(format, user):
    with override_settings(PRODUCTION_PROCESSES=gunicorn()):
        outcome = manage("prodserver", "--export", format, f"--run-as={user}")

    assert outcome.status == 1
    assert "numeric" in outcome.stderr
    assert "Traceback" not in outcome.stderr


@pytest.mark.parametrize("typed", ["--bind=127.0.0.1:" + "9" * 5000, "--workers=" + "9" * 5000])
def test_a_typed_number_too_long_to_convert_is_an_error(typed):
    with override_settings(PRODUCTION_PROCESSES=gunicorn()):
        outcome = manage("prodserver", "web", "--dry-run", typed)

    assert outcome.status == 1
    assert "Process 'web'" in outcome.stderr


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--export", ""], "--export was given an empty value; it takes a format, one of"),
        (["--export", "  "], "--export was given an empty value; it takes a format"),
        (["--probe", ""], "--probe was given an empty value; it takes the name of the process"),
        (["web", "--output", ""], "--output: only for --export FORMAT"),
        (["--export", "procfile", "--environment-file", " "], "--environment-file was given an"),
    ],
)
def test_a_blank_value_of_an_option_is_an_error_not_a_start(tmp_path, argv, said):
    """`prodserver --export ""` started the server; through manage.py, as a shell types it."""
    project = write_project(tmp_path, gunicorn(ARGS={"bind": "127.0.0.1:0"}))
    result = project.manage("prodserver", *argv, timeout=30)

    assert result.returncode == 1
    assert said in result.stderr
    assert "Listening at" not in result.stderr


URL_PASSWORDS = ["p#ss", "p?ss", "pa/ss", "p@ss", "p%40ss", "p:ss://x", "#?/@"]


@pytest.mark.parametrize("password", URL_PASSWORDS)
def test_a_url_password_is_masked_however_it_is_written(tmp_path, password):
    url = f"redis://user:{password}@redis.internal:6379/0"
    processes = {
        "worker": {
            "BACKEND": "django_prodserver.backends.celery.CeleryWorker",
            "APP": "exampleproject.celery.app",
            "ARGS": {"broker": url},
            "ENV": {"CACHE_URL": url},
        }
    }
    with override_settings(PRODUCTION_PROCESSES=processes):
        runs = [
            manage("check", "--tag=prodserver"),
            manage("prodserver", "worker", "--dry-run"),
            manage("prodserver", "--list"),
            *(
                manage("prodserver", "--export", f, f"--output={tmp_path / f}")
                for f in EXPORT_FORMATS
            ),
        ]

    written = "".join(path.read_text() for path in tmp_path.rglob("*") if path.is_file())
    shown = "".join(run.output for run in runs) + written
    assert "user:********@redis.internal" in shown
    assert password not in shown
