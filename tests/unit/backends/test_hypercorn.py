"""The hypercorn backend's plan: the options of hypercorn's own parser, its Config names."""

from __future__ import annotations

from functools import partial

import pytest

from django_prodserver.backends.hypercorn import (
    HypercornServer,
    config_names,
    hypercorn_parser,
    option_table,
)
from django_prodserver.errors import MissingPackageError, OptionError
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

PATH = "django_prodserver.backends.hypercorn.HypercornServer"


line = partial(support.line, backend=HypercornServer)


def test_the_documented_line():
    assert line({"bind": "0.0.0.0:8000", "workers": 4}) == (
        "hypercorn --bind=0.0.0.0:8000 --workers=4 myproject.asgi:application"
    )


def test_the_parser_is_hypercorns_own_and_every_option_is_known():
    parser = hypercorn_parser()
    flags = [flag for action in parser._actions for flag in action.option_strings]
    assert "--graceful-timeout" in flags
    assert "--websocket-ping-interval" in flags
    table = option_table()
    for flag in flags:
        if flag not in ("-h", "--help"):
            assert flag in table.find(flag, "web")[0].flags


def test_config_names_are_read_from_hypercorns_main():
    names = config_names()
    assert names["keep_alive"] == "keep_alive_timeout"
    assert names["binds"] == "bind"
    assert names["reload"] == "use_reloader"
    assert names["pid"] == "pid_path"
    # --access-logfile, applied after the deprecated --access-log, owns `accesslog`.
    assert names["access_logfile"] == "accesslog"
    assert "access_log" not in names


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"keep_alive_timeout": 10}, "--keep-alive=10"),
        ({"keep-alive": 10}, "--keep-alive=10"),
        ({"accesslog": "-"}, "--access-logfile=-"),
        ({"access-logfile": "-"}, "--access-logfile=-"),
        ({"errorlog": "-"}, "--error-logfile=-"),
        ({"log-file": "-"}, "--error-logfile=-"),
        ({"loglevel": "warning"}, "--log-level=warning"),
        ({"log-level": "DEBUG"}, "--log-level=DEBUG"),
        ({"pid_path": "/run/h.pid"}, "--pid=/run/h.pid"),
        ({"graceful-timeout": 20}, "--graceful-timeout=20"),
        ({"worker_class": "asyncio"}, "--worker-class=asyncio"),
        ({"reload": "True"}, "--reload"),
        ({"use_reloader": True}, "--reload"),
        ({"debug": True}, "--debug"),
        (
            {"bind": ["0.0.0.0:8000", "unix:/run/h.sock"]},
            "--bind=0.0.0.0:8000 --bind=unix:/run/h.sock",
        ),
        ({"insecure_bind": "0.0.0.0:80"}, "--insecure-bind=0.0.0.0:80"),
        (
            {"server-name": ["a.example", "b.example"]},
            "--server-name=a.example --server-name=b.example",
        ),
        ({"root-path": "/app"}, "--root-path=/app"),
        ({"access-logformat": '%(h)s "%(r)s"'}, "'--access-logformat=%(h)s \"%(r)s\"'"),
    ],
)
def test_command_line_and_config_names(args, expected):
    assert line(args) == f"hypercorn {expected} myproject.asgi:application"


def test_flags_set_to_false_are_left_out():
    assert line({"reload": "False", "debug": False, "workers": 2}) == (
        "hypercorn --workers=2 myproject.asgi:application"
    )


def test_port_and_web_concurrency_from_the_environment_are_visible(monkeypatch):
    monkeypatch.setenv("PORT", "5000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert line({}) == "hypercorn --bind=0.0.0.0:5000 --workers=3 myproject.asgi:application"
    assert line({"bind": "unix:/run/h.sock", "workers": 2}) == (
        "hypercorn --bind=unix:/run/h.sock --workers=2 myproject.asgi:application"
    )


def test_overrides_replace():
    assert line({"bind": "0.0.0.0:8000", "workers": 2}, ["-w", "8", "--bind=127.0.0.1:9"]) == (
        "hypercorn --bind=127.0.0.1:9 --workers=8 myproject.asgi:application"
    )


def test_argv_form():
    assert line(["-b", "0.0.0.0:8000", "-w", "2"], ["--workers=4"]) == (
        "hypercorn --bind=0.0.0.0:8000 --workers=4 myproject.asgi:application"
    )


def test_unknown_option_suggests():
    with pytest.raises(OptionError, match=r"hypercorn has no option `workres`.*`workers`"):
        line({"workres": 2})


def test_a_config_setting_without_a_command_line_form_points_at_a_config_file():
    with pytest.raises(OptionError, match=r"`shutdown_timeout` has no command-line form.*config"):
        line({"shutdown_timeout": 5})


def test_the_same_option_under_two_names_is_an_error():
    with pytest.raises(OptionError, match=r"sets hypercorn's `accesslog` twice"):
        line({"accesslog": "-", "access-logfile": "/var/log/h.log"})


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"workers": "four"}, "argument -w/--workers: invalid int value: 'four'."),
        ({"verify-mode": "sometimes"}, "'sometimes' is not a valid verify mode."),
        ({"cert-reqs": 7}, "ValueError: 7 is not a valid VerifyMode"),
        ({"worker-class": "threads"}, "hypercorn has no worker class `threads`"),
        ({"worker-class": "uvlopp"}, "no worker class `uvlopp` (did you mean `uvloop`?)"),
        ({"loglevel": "loud"}, "hypercorn's `loglevel` is a logging level"),
        ({"reload": True, "workers": 0}, "hypercorn cannot reload without workers"),
        ({"config": "/nonexistent/hypercorn.toml"}, "No such file or directory"),
        ({"debug": "sometimes"}, "expected True or False"),
    ],
)
def test_invalid_values_are_rejected(args, words):
    with pytest.raises(OptionError) as error:
        line(args)
    assert words in str(error.value)
    assert "Process 'web'" in str(error.value)


def test_a_config_file_is_read_as_hypercorn_reads_it(tmp_path):
    config = tmp_path / "hypercorn.toml"
    config.write_text('worker_class = "threads"\n')
    with pytest.raises(OptionError, match="no worker class `threads`"):
        line({"config": str(config)})
    config.write_text("graceful_timeout = 10\n")
    assert line({"config": str(config)}) == (
        f"hypercorn --config={config} myproject.asgi:application"
    )


def test_a_worker_class_whose_package_is_missing_names_the_pip_line(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "trio" else real_find_spec(name, *a),
    )
    with pytest.raises(MissingPackageError, match=r"'trio'.*\n.*pip install 'hypercorn\[trio\]'"):
        line({"worker-class": "trio"})


def test_missing_hypercorn_names_the_pip_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "hypercorn", None)
    with pytest.raises(MissingPackageError, match=r"pip install 'django-prodserver\[hypercorn\]'"):
        HypercornServer(ProcessSpec("web", PATH, {})).plan()
