"""Generated hostile settings and command lines: never a traceback, never a planted secret.

Each example goes through `check`, `--dry-run` of each process, `--list` and every
`--export` (written into a folder), in this process through the door a shell uses
(`run_from_argv`). For each: the outcome is an exit status with a message, never another
exception; a configuration `check` refuses is refused by every command; the secrets
planted in ENV (names ending in PASSWORD, SECRET, TOKEN; a URL's password, written with
raw `#`, `?`, `/`, `@`, `:` and percent-escapes around it) appear in no output and no
file; and each example takes under 2 s.

The shapes: numbers too long to write out (10**5000) and digits that are not ASCII, in
settings and typed; duck-typed backends (the API without subclassing `Backend`) and
things a BACKEND may name that are no backend; HEALTH and DEV; the export flags and the
options that name a mode (`--export`, `--probe`), blank ones included.
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

from django_prodserver.processes import name_text
from tests.unit.hostile_support import (
    EXPORT_FORMATS,
    SYNTAX_ERROR_MODULE,
    Outcome,
    manage,
    write_syntax_error_module,
)

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
HOSTILE = "tests.unit.hostile_backends"
DUCKS = ("DuckTyped", "DuckWithoutPlan", "DuckOfNoKind", "DuckAnswersWrongly", "not_a_class")
BACKENDS = [
    GUNICORN,
    "django_prodserver.backends.dev.django_runserver.DjangoRunserver",
    "django_prodserver.backends.uvicorn.UvicornServer",
    "django_prodserver.backends.waitress.WaitressServer",
    "django_prodserver.backends.celery.CeleryWorker",
    "django_prodserver.backends.base.Backend",
    "..backends.gunicorn.GunicornServer",
    "/etc/passwd",
    "gunicorn",
    f"{SYNTAX_ERROR_MODULE}.Broken",
    *(f"{HOSTILE}.{name}" for name in ("RaisesInInit", "RaisesInPlan", "PlansNone", "PlansANul")),
    *(f"{HOSTILE}.{name}" for name in DUCKS),
]
SECRET = "Plnt9xQz"  # planted: must never be printed nor written

weird_text = st.text(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(
            ["\x00", "\n", "\x1b", "\u2028", "\ud800", "\u00b2", "\u0663", "=", "-", "/", "."]
        ),
    ),
    max_size=12,
)
# Longer than Python writes an int (4300 digits): int() of it raises.
LONG_DIGITS = "9" * 5000


class TooLongToWrite(int):
    """An int that Python cannot write out (str() and repr() raise, as of any such int);
    only Hypothesis, when it shows an example, is told how to write it."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(f"{'-' if self < 0 else ''}10**5000")


HUGE = TooLongToWrite(10**5000)
NEGATIVE_HUGE = TooLongToWrite(-(10**5000))
numbers = st.one_of(
    st.integers(-(10**3), 10**3),
    st.sampled_from([0, -1, 10**400, HUGE, NEGATIVE_HUGE, 2**63, True, float("nan"), float("inf")]),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), weird_text, numbers, st.just(LONG_DIGITS))
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
    st.just(HUGE),
)
option_names = st.sampled_from(
    [
        "bind",
        "workers",
        "timeout",
        "graceful-timeout",
        "port",
        "host",
        "addrport",
        "worker-class",
        "loop",
        "nope",
        1,
        "--all",
    ]
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
            "HEALTH": st.one_of(
                values,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "PATH": weird_text,
                        "STATUS": numbers,
                        "TIMEOUT": st.one_of(numbers, weird_text),
                        "HOST": weird_text,
                        "WARMUP": values,
                    },
                ),
            ),
            "DEV": st.one_of(
                values,
                st.fixed_dictionaries(
                    {}, optional={"BACKEND": st.sampled_from(BACKENDS), "ARGS": args}
                ),
            ),
        },
    ),
    values,
)
configurations = st.dictionaries(names, definitions, min_size=1, max_size=3)
typed_words = st.lists(
    st.one_of(
        st.builds(lambda n, v: f"--{n}={v}", option_names, weird_text),
        st.sampled_from(["--", "-w", "--bind", "--all", "-v", "3", "--list", LONG_DIGITS]),
        st.builds(lambda n: f"--{n}={LONG_DIGITS}", option_names),
        weird_text,
    ),
    max_size=3,
)
# A URL's password as users write it: raw `#`, `?`, `/`, `@`, `:` and percent-escapes.
password_parts = st.lists(
    st.sampled_from([*"#?/@:%=&+!$*~-._", "%40", "%23", "%2F"]), max_size=6
).map("".join)
planted_passwords = st.builds(
    lambda before, after: before + SECRET + after, password_parts, password_parts
)
blank = st.sampled_from(["", " ", "\t"])
export_flags = st.dictionaries(
    st.sampled_from(
        [
            "--output",
            "--project",
            "--python",
            "--working-directory",
            "--image",
            "--run-as",
            "--environment-file",
            "--dockerfile",
            "--context",
            "--replicas",
        ]
    ),
    st.one_of(
        blank, weird_text, st.sampled_from(["\u00b2", "\u0663", LONG_DIGITS, "web=" + LONG_DIGITS])
    ),
    max_size=3,
)


def with_planted_secrets(processes: dict[Any, Any], password: str = SECRET) -> dict[Any, Any]:
    """Every dict definition gets secrets in ENV, in the forms masking covers today."""
    planted = {
        "DB_PASSWORD": SECRET,
        "API_SECRET": SECRET,
        "GITHUB_TOKEN": SECRET,
        "BROKER_URL": f"redis://user:{password}@localhost:6379/0",
    }
    result = {}
    for name, definition in processes.items():
        if isinstance(definition, dict) and isinstance(definition.get("ENV", {}), dict):
            definition = {**definition, "ENV": {**definition.get("ENV", {}), **planted}}
        result[name] = definition
    return result


def shows_the_secret(text: str) -> bool:
    """Whether any four characters of the secret in a row are shown: a part is a leak too."""
    return any(SECRET[index : index + 4] in text for index in range(len(SECRET) - 3))


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
@given(processes=configurations, password=planted_passwords)
def test_hostile_settings(module_folder, processes, password):
    processes = with_planted_secrets(processes, password)
    output = Path(tempfile.mkdtemp(dir=module_folder))
    with override_settings(PRODUCTION_PROCESSES=processes):
        check = manage("check", "--tag=prodserver")
        runs: dict[str, Outcome] = {"--list": manage("prodserver", "--list")}
        dry_runs: dict[str, Outcome] = {
            name_text(name): manage("prodserver", "--dry-run", name_text(name))
            for name in processes
        }
        for format in EXPORT_FORMATS:
            runs[format] = manage("prodserver", "--export", format, f"--output={output / format}")

    outcomes = [check, *runs.values(), *dry_runs.values()]
    everything = "".join(outcome.output for outcome in outcomes)
    assert not shows_the_secret(everything + read_every_file(output))
    assert "Traceback" not in everything
    if check.status != 0:  # what check refuses, no command goes on with
        for what, run in runs.items():
            assert run.status != 0, f"{what} exited 0, though check says:\n{check.stderr}"
        for name, run in dry_runs.items():
            # A start of one process is checked for that process (and the whole setting).
            concerned = f"Process '{name}'" in check.stderr or any(
                f"(prodserver.{id})" in check.stderr for id in ("E001", "E013")
            )
            assert run.status != 0 or not concerned, (
                f"--dry-run {name} exited 0, though check says:\n{check.stderr}"
            )


@HYPOTHESIS
@given(
    processes=configurations,
    words=typed_words,
    mode=st.sampled_from(["--dry-run", "--list"]),
    password=planted_passwords,
)
def test_hostile_command_lines(module_folder, processes, words, mode, password):
    processes = with_planted_secrets(processes, password)
    name = name_text(next(iter(processes)))
    with override_settings(PRODUCTION_PROCESSES=processes):
        outcome = manage("prodserver", mode, name, *words)

    assert not shows_the_secret(outcome.output)
    assert "Traceback" not in outcome.output


@HYPOTHESIS
@given(
    processes=configurations,
    mode=st.one_of(
        st.tuples(
            st.just("--export"), st.one_of(st.sampled_from(EXPORT_FORMATS), blank, weird_text)
        ),
        st.tuples(st.just("--probe"), blank),
    ),
    flags=export_flags,
    password=planted_passwords,
)
def test_hostile_export_flags_and_modes(module_folder, processes, mode, flags, password):
    """`--dry-run` rides along, so that a blank mode that is not refused starts no server."""
    processes = with_planted_secrets(processes, password)
    output = Path(tempfile.mkdtemp(dir=module_folder))
    words = [
        f"{flag}={output / 'out'}" if flag == "--output" and value.strip() else f"{flag}={value}"
        for flag, value in flags.items()
    ]
    with override_settings(PRODUCTION_PROCESSES=processes):
        outcome = manage("prodserver", *mode, *words, "--dry-run")

    assert not shows_the_secret(outcome.output + read_every_file(output))
    assert "Traceback" not in outcome.output
    if not mode[1].strip():
        assert outcome.status != 0, f"{mode} exited 0:\n{outcome.output}"


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
