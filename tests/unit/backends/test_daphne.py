"""The daphne backend's plan: names from daphne's own argparse parser, checked by it."""

from __future__ import annotations

from functools import partial

import pytest
from django.test import override_settings

from django_prodserver.backends.daphne import DaphneServer, daphne_interface, option_table
from django_prodserver.errors import ApplicationError, MissingPackageError, OptionError
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

PATH = "django_prodserver.backends.daphne.DaphneServer"


line = partial(support.line, backend=DaphneServer)


def test_the_documented_line():
    assert line({"bind": "0.0.0.0", "port": 8000}) == (
        "daphne --bind=0.0.0.0 --port=8000 myproject.asgi:application"
    )


def test_every_option_of_daphnes_parser_is_known():
    table = option_table()
    for action in daphne_interface().parser._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert table.find(flag, "web")[0].flags[0] in action.option_strings


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"unix_socket": "/run/d.sock"}, "--unix-socket=/run/d.sock"),
        ({"unix-socket": "/run/d.sock"}, "--unix-socket=/run/d.sock"),
        ({"fd": 3}, "--fd=3"),
        (
            {"endpoint": ["tcp:8001", "unix:/run/d.sock"]},
            "--endpoint=tcp:8001 --endpoint=unix:/run/d.sock",
        ),
        ({"websocket_timeout": 60}, "--websocket_timeout=60"),
        ({"websocket-timeout": 60}, "--websocket_timeout=60"),
        ({"http-timeout": 30}, "--http-timeout=30"),
        ({"access-log": "-"}, "--access-log=-"),
        ({"proxy-headers": "True"}, "--proxy-headers"),
        (
            {"proxy_headers": True, "proxy-headers-host": "X-Real-IP"},
            "--proxy-headers --proxy-headers-host=X-Real-IP",
        ),
        ({"no-server-name": True}, "--no-server-name"),
        ({"server-name": "web1"}, "--server-name=web1"),
        ({"verbosity": 0}, "--verbosity=0"),
        ({"root-path": "/app"}, "--root-path=/app"),
    ],
)
def test_options_and_flags(args, expected):
    assert line(args) == f"daphne {expected} myproject.asgi:application"


def test_a_flag_set_to_false_is_left_out():
    assert line({"proxy-headers": False, "port": 8000}) == (
        "daphne --port=8000 myproject.asgi:application"
    )


def test_port_from_the_environment_is_visible(monkeypatch):
    monkeypatch.setenv("PORT", "5000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")  # daphne has no worker processes
    assert line({}) == "daphne --bind=0.0.0.0 --port=5000 myproject.asgi:application"
    for address in ({"port": 8000}, {"unix-socket": "/run/d.sock"}, {"endpoint": "tcp:9"}):
        assert "5000" not in line(address)


def test_overrides_replace():
    assert line({"bind": "0.0.0.0", "port": 8000}, ["-p", "9000", "--bind=127.0.0.1"]) == (
        "daphne --bind=127.0.0.1 --port=9000 myproject.asgi:application"
    )


def test_argv_form():
    assert line(["-b", "0.0.0.0", "-p", "8000"], ["--port=9000"]) == (
        "daphne --bind=0.0.0.0 --port=9000 myproject.asgi:application"
    )
    assert line(["-p", "8000", "other.asgi:app"]) == "daphne --port=8000 other.asgi:app"


def test_unknown_option_suggests():
    with pytest.raises(OptionError, match=r"daphne has no option `prot` \(did you mean `port`"):
        line({"prot": 8000})


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"port": "eighty"}, "argument -p/--port: invalid int value: 'eighty'."),
        ({"verbosity": 5}, "daphne's `verbosity` is 0, 1, 2 or 3, got 5."),
        (
            {"proxy-headers-host": "X-Real-IP"},
            "--proxy-headers has to be passed for this parameter.",
        ),
        ({"proxy-headers": "sometimes"}, "expected True or False"),
        ({"bind": ["a", "b"]}, "`bind` takes one value"),
    ],
)
def test_invalid_values_are_rejected(args, words):
    with pytest.raises(OptionError) as error:
        line(args)
    assert words in str(error.value)
    assert "Process 'web'" in str(error.value)


def test_no_asgi_application():
    spec = ProcessSpec("web", PATH, {})
    with (
        override_settings(ASGI_APPLICATION=None, WSGI_APPLICATION=None),
        pytest.raises(ApplicationError, match="ASGI_APPLICATION"),
    ):
        DaphneServer(spec).plan()


def test_missing_daphne_names_the_pip_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "daphne", None)
    with pytest.raises(MissingPackageError, match=r"pip install 'django-prodserver\[daphne\]'"):
        DaphneServer(ProcessSpec("web", PATH, {})).plan()
