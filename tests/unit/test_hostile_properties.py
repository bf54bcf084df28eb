"""Generated hostile settings and command lines: never a traceback, never a planted secret.

Each example goes through `check`, `--dry-run` of each process, `--list` and every
`--export` (written into a folder), in this process through the door a shell uses
(`run_from_argv`). For each: the outcome is an exit status with a message, never another
exception; a configuration `check` refuses is refused by every command; the secrets
planted in ENV (names ending in PASSWORD, SECRET, TOKEN; a URL's password) appear in no
output and no file; and each example takes under 2 s.
"""

from __future__ import annotations

import importlib
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.hostile_support import (
    EXPORT_FORMATS,
    SYNTAX_ERROR_MODULE,
    Outcome,
    manage,
    write_syntax_error_module,
)

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
HOSTILE = "tests.unit.hostile_backends"
BACKENDS = [
    GUNICORN,
    "django_prodserver.backends.uvicorn.UvicornServer",
    "django_prodserver.backends.waitress.WaitressServer",
    "django_prodserver.backends.celery.CeleryWorker",
    "django_prodserver.backends.base.Backend",
    "..backends.gunicorn.GunicornServer",
    "/etc/passwd",
    "gunicorn",
    f"{SYNTAX_ERROR_MODULE}.Broken",
    *(f"{HOSTILE}.{name}" for name in ("RaisesInInit", "RaisesInPlan", "PlansNone", "PlansANul")),
]
SECRET = "Plnt9xQz"  # planted: must never be printed nor written

weird_text = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x00", "\n", "\x1b", "\u2028", "\ud800", "\u00b2", "=", "-", "/", "."]),
    ),
    max_size=12,
)
numbers = st.one_of(
    st.integers(-(10**3), 10**3),
    st.sampled_from([0, -1, 10**400, 2**63, True, float("nan"), float("inf"), float("-inf")]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), weird_text, numbers)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(weird_text, inner, max_size=2),
    max_leaves=4,
)
names = st.one_of(
    st.sampled_from(
        ["web", "worker", "--all", "-x", "../../x", "/abs", ".hidden", "a" * 65, "web 1"]
    ),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,8}", fullmatch=True),
    weird_text,
    st.integers(0, 3),
)
option_names = st.sampled_from(
    ["bind", "workers", "timeout", "port", "host", "worker-class", "loop", "nope", 1, "--all"]
)
args = st.one_of(
    st.dictionaries(option_names, values, max_size=3),
    st.lists(weird_text, max_size=3),
    weird_text,
    numbers,
)
env = st.dictionaries(st.one_of(weird_text, st.integers(0, 2)), scalars, max_size=3)
definitions = st.one_of(
    st.fixed_dictionaries(
        {"BACKEND": st.sampled_from(BACKENDS)},
        optional={
            "ARGS": args,
            "ENV": env,
            "APP": st.one_of(st.sampled_from(["..x", "exampleproject.celery.app"]), values),
            "STOP_TIMEOUT": st.one_of(numbers, weird_text),
            "STOP_SIGNAL": st.one_of(st.sampled_from(["SIGTERM", "INT", 9, 999]), weird_text),
            "RESTART": st.one_of(st.sampled_from(["always", "never"]), values),
            "PORT": values,
        },
    ),
    values,
)
configurations = st.dictionaries(names, definitions, min_size=1, max_size=3)
typed_words = st.lists(
    st.one_of(
        st.builds(lambda n, v: f"--{n}={v}", option_names, weird_text),
        st.sampled_from(["--", "-w", "--bind", "--all", "-v", "3", "--list"]),
        weird_text,
    ),
    max_size=3,
)


def with_planted_secrets(processes: dict[Any, Any]) -> dict[Any, Any]:
    """Every dict definition gets secrets in ENV, in the forms masking covers today."""
    planted = {
        "DB_PASSWORD": SECRET,
        "API_SECRET": SECRET,
        "GITHUB_TOKEN": SECRET,
        "BROKER_URL": f"redis://user:{SECRET}@localhost:6379/0",
    }
    result = {}
    for name, definition in processes.items():
        if isinstance(definition, dict) and isinstance(definition.get("ENV", {}), dict):
            definition = {**definition, "ENV": {**definition.get("ENV", {}), **planted}}
        result[name] = definition
    return result


@pytest.fixture(scope="module")
def module_folder() -> Any:
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    write_syntax_error_module(folder)
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    yield folder
    sys.path.remove(str(folder))
    sys.modules.pop(SYNTAX_ERROR_MODULE, None)
    shutil.rmtree(folder)


def read_every_file(folder: Path) -> str:
    return "".join(path.read_text() for path in folder.rglob("*") if path.is_file())


HYPOTHESIS = settings(
    max_examples=150,
    database=None,  # no .hypothesis folder in the checkout; CI starts afresh anyway
    # The same examples on every CI run, so that a run fails for the code, not for the
    # draw; elsewhere each run explores new ones.
    derandomize=bool(os.environ.get("CI")),
    deadline=2000,  # ms: each example, every command, under 2 s
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HYPOTHESIS
@given(processes=configurations)
def test_hostile_settings(module_folder, processes):
    processes = with_planted_secrets(processes)
    output = Path(tempfile.mkdtemp(dir=module_folder))
    with override_settings(PRODUCTION_PROCESSES=processes):
        check = manage("check", "--tag=prodserver")
        runs: dict[str, Outcome] = {"--list": manage("prodserver", "--list")}
        for name in processes:
            runs[f"--dry-run {name!r}"] = manage("prodserver", "--dry-run", "--", str(name))
        for format in EXPORT_FORMATS:
            runs[format] = manage("prodserver", "--export", format, f"--output={output / format}")

    everything = check.output + "".join(run.output for run in runs.values())
    assert SECRET not in everything + read_every_file(output)
    assert "Traceback" not in everything
    if check.status != 0:  # what check refuses, no command goes on with
        for what, run in runs.items():
            assert run.status != 0, f"{what} exited 0, though check says:\n{check.stderr}"


@HYPOTHESIS
@given(processes=configurations, words=typed_words, mode=st.sampled_from(["--dry-run", "--list"]))
def test_hostile_command_lines(module_folder, processes, words, mode):
    processes = with_planted_secrets(processes)
    name = str(next(iter(processes)))
    with override_settings(PRODUCTION_PROCESSES=processes):
        outcome = manage("prodserver", mode, name, *words)

    assert SECRET not in outcome.output
    assert "Traceback" not in outcome.output


def test_the_strategies_reach_the_hostile_values():
    """The numbers the issue names are among those generated (the test cannot miss them)."""
    found = {"nan": False, "inf": False, "huge": False}

    @settings(max_examples=300, database=None, derandomize=bool(os.environ.get("CI")))
    @given(numbers)
    def look(number: Any) -> None:
        if isinstance(number, float) and math.isnan(number):
            found["nan"] = True
        elif isinstance(number, float) and math.isinf(number):
            found["inf"] = True
        elif isinstance(number, int) and number > 2**62:
            found["huge"] = True

    look()
    assert all(found.values()), found
