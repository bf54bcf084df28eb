from __future__ import annotations

import pytest
from django.test import override_settings

from django_prodserver.errors import ProdserverError
from django_prodserver.processes import ProcessSpec, get_process, read_processes

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"


def read(processes):
    with override_settings(PRODUCTION_PROCESSES=processes):
        return read_processes()


def test_a_dict_definition_becomes_a_spec():
    specs, problems = read({"web": {"BACKEND": GUNICORN, "ARGS": {"workers": 2}, "APP": "x.app"}})
    assert problems == []
    assert specs == {"web": ProcessSpec("web", GUNICORN, {"workers": 2}, "x.app")}


def test_args_as_a_list_or_a_string_are_argv():
    specs, _ = read(
        {
            "a": {"BACKEND": GUNICORN, "ARGS": ["--bind=0.0.0.0:8000", "-w", "2"]},
            "b": {"BACKEND": GUNICORN, "ARGS": "--bind '0.0.0.0:8000' -w 2"},
        }
    )
    assert specs["a"].args == ("--bind=0.0.0.0:8000", "-w", "2")
    assert specs["b"].args == ("--bind", "0.0.0.0:8000", "-w", "2")


def test_missing_args_means_no_options():
    specs, _ = read({"web": {"BACKEND": GUNICORN}})
    assert specs["web"].args == {}


@pytest.mark.parametrize(
    ("processes", "check_id", "words"),
    [
        (["web"], "prodserver.E001", "must be a dict"),
        ({"web": "gunicorn"}, "prodserver.E002", "definition must be a dict"),
        ({"web": {"ARGS": {}}}, "prodserver.E003", "BACKEND is missing"),
        ({"web": {"BACKEND": 5}}, "prodserver.E003", "BACKEND must be a string, got 5"),
        (
            {"web": {"BACKEND": GUNICORN, "ARGS": '--bind=0.0.0.0:8000 --name="web'}},
            "prodserver.E005",
            "ARGS is split into words as a shell would, and '--bind=0.0.0.0:8000 --name=\"web' "
            "cannot be: no closing quotation.",
        ),
        ({"web": {"BACKEND": GUNICORN, "ARGS": 3}}, "prodserver.E005", "ARGS must be"),
        ({"web": {"BACKEND": GUNICORN, "APP": 3}}, "prodserver.E005", "APP must be"),
        ({"web": {"BACKEND": GUNICORN, "ARG": {}}}, "prodserver.E006", "did you mean 'ARGS'"),
    ],
)
def test_malformed_definitions_are_problems_with_check_ids(processes, check_id, words):
    _, problems = read(processes)
    assert [p.id for p in problems] == [check_id]
    assert words in problems[0].message


def test_unknown_process_lists_the_configured_ones():
    with (
        override_settings(PRODUCTION_PROCESSES={"web": {"BACKEND": GUNICORN}, "beat": {}}),
        pytest.raises(ProdserverError, match=r"Unknown process 'wbe' \(did you mean 'web'\?\)"),
    ):
        get_process("wbe")


def test_nothing_configured():
    with override_settings(PRODUCTION_PROCESSES={}), pytest.raises(ProdserverError, match="empty"):
        get_process("web")


def test_process_extras_have_defaults():
    specs, _ = read({"web": {"BACKEND": GUNICORN}})
    spec = specs["web"]
    assert (spec.env, spec.restart, spec.stop_timeout, spec.stop_signal) == (
        {},
        "on-failure",
        30.0,
        "SIGTERM",
    )


def test_process_extras_are_read():
    specs, problems = read(
        {
            "web": {
                "BACKEND": GUNICORN,
                "ENV": {"LEVEL": "info", "WORKERS": 3},
                "RESTART": "always",
                "STOP_TIMEOUT": 45,
                "STOP_SIGNAL": "quit",
            }
        }
    )
    assert problems == []
    spec = specs["web"]
    assert spec.env == {"LEVEL": "info", "WORKERS": "3"}
    assert (spec.restart, spec.stop_timeout, spec.stop_signal) == ("always", 45.0, "SIGQUIT")
    assert spec.stop_signal_number.name == "SIGQUIT"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"ENV": ["A=1"]}, "ENV must be a dict"),
        ({"ENV": {"A": None}}, "ENV['A'] must be a string or a number"),
        ({"ENV": {"A=B": "1"}}, "bad variable name"),
        ({"RESTART": "on_failure"}, "did you mean 'on-failure'"),
        ({"STOP_TIMEOUT": "30"}, "STOP_TIMEOUT must be a number"),
        ({"STOP_TIMEOUT": 0}, "greater than 0"),
        ({"STOP_SIGNAL": "SIGSTOPP"}, "STOP_SIGNAL must name a signal"),
    ],
)
def test_bad_process_extras_are_problems(extra, words):
    _, problems = read({"web": {"BACKEND": GUNICORN, **extra}})
    assert [p.id for p in problems] == ["prodserver.E005"]
    assert words in problems[0].message
    assert "Process 'web'" in problems[0].message


def test_a_spec_crosses_an_exec_as_json_and_comes_back_the_same():
    import json
    from pathlib import Path

    from django_prodserver.processes import spec_from_data, spec_to_data

    definition = {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {"bind": ["127.0.0.1:8000", "unix:/run/x.sock"], "workers": 4, "preload": None},
        "ENV": {"GREETING": "h\u00e9llo \u2028 \x7f"},
        "RESTART": "always",
        "STOP_TIMEOUT": 2.5,
        "STOP_SIGNAL": "SIGQUIT",
        "HEALTH": {"PATH": "/healthz", "STATUS": 204, "WARMUP": True},
        "DEV": {"ARGS": ["--reload"], "ENV": {"DEBUG": "1"}},
    }
    specs, problems = read({"web": definition})
    assert problems == []
    spec = specs["web"]
    assert spec_from_data(json.loads(json.dumps(spec_to_data(spec)))) == spec
    words = ProcessSpec("release", "x", args=("migrate", "--noinput"))
    assert spec_from_data(json.loads(json.dumps(spec_to_data(words)))) == words
    # A value a 3.0 backend takes as it is crosses as its text (the runner reads no ARGS).
    legacy = ProcessSpec("old", "x", args={"root": Path("/srv")})
    assert spec_from_data(json.loads(json.dumps(spec_to_data(legacy)))).args == {"root": "/srv"}
