"""The granian backends' plans: names from granian's click command, checked by granian's parser."""

from __future__ import annotations

import os
import sys
from functools import partial

import pytest
from django.test import override_settings

from django_prodserver.backends.granian import (
    GranianASGIServer,
    GranianServer,
    GranianWSGIServer,
    granian_command,
)
from django_prodserver.errors import ApplicationError, MissingPackageError, OptionError
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

ASGI = "django_prodserver.backends.granian.GranianASGIServer"
WSGI = "django_prodserver.backends.granian.GranianWSGIServer"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """granian reads GRANIAN_* variables; $PORT and $WEB_CONCURRENCY add options."""
    for name in list(os.environ):
        if name.startswith("GRANIAN_") or name in ("PORT", "WEB_CONCURRENCY"):
            monkeypatch.delenv(name)


line = partial(support.line, backend=GranianASGIServer)


def test_asgi_line_names_the_interface():
    assert line({"host": "0.0.0.0", "port": 8000, "workers": 4}) == (
        "granian --interface=asgi --host=0.0.0.0 --port=8000 --workers=4 myproject.asgi:application"
    )


def test_wsgi_line_names_the_interface_and_the_wsgi_application():
    assert line({"port": 8000, "blocking-threads": 8}, backend=GranianWSGIServer) == (
        "granian --interface=wsgi --port=8000 --blocking-threads=8 myproject.wsgi:application"
    )


def test_the_interface_is_explicit_even_without_args():
    """granian's own default is RSGI, which Django does not speak."""
    assert line({}) == "granian --interface=asgi myproject.asgi:application"
    assert line({}, backend=GranianWSGIServer) == (
        "granian --interface=wsgi myproject.wsgi:application"
    )


def test_a_configured_interface_stays_where_it_was_written():
    assert line({"port": 8000, "interface": "asgi"}) == (
        "granian --port=8000 --interface=asgi myproject.asgi:application"
    )
    assert line({"interface": "asginl"}) == "granian --interface=asginl myproject.asgi:application"


def test_every_granian_option_is_known():
    import click

    table = GranianASGIServer(ProcessSpec("web", ASGI, {})).option_table()
    for parameter in granian_command().params:
        if isinstance(parameter, click.Option) and parameter.name not in ("help", "version"):
            assert table.find(str(parameter.name), "web")[0].key == parameter.name
            for flag in [*parameter.opts, *parameter.secondary_opts]:
                assert table.find(flag, "web")[0].key == parameter.name


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"no-ws": True}, "--no-ws"),
        ({"ws": False}, "--no-ws"),
        ({"websockets": "False"}, "--no-ws"),
        ({"access-log": True}, "--access-log"),
        ({"access_log": "True"}, "--access-log"),
        ({"log_access_enabled": True}, "--access-log"),
        ({"no-access-log": True}, "--no-access-log"),
        ({"access-log": False}, "--no-access-log"),
        ({"log-level": "warning"}, "--log-level=warning"),
        ({"workers-kill-timeout": "30s"}, "--workers-kill-timeout=30s"),
        ({"runtime-threads": 2}, "--runtime-threads=2"),
        ({"backpressure": 64}, "--backpressure=64"),
        ({"http": "1"}, "--http=1"),
        ({"url-path-prefix": "/app"}, "--url-path-prefix=/app"),
        ({"access-log-fmt": '%(addr)s "%(path)s"'}, "'--access-log-fmt=%(addr)s \"%(path)s\"'"),
        ({"blocking-threads": 1}, "--blocking-threads=1"),
        ({"log": False}, "--no-log"),
    ],
)
def test_options_and_flags(args, expected):
    assert line(args) == f"granian --interface=asgi {expected} myproject.asgi:application"


def test_none_leaves_an_option_unset_and_switches_a_flag_on():
    assert line({"log-level": None, "workers": 2}) == (
        "granian --interface=asgi --workers=2 myproject.asgi:application"
    )
    assert line({"access-log": None, "no-ws": None}) == (
        "granian --interface=asgi --access-log --no-ws myproject.asgi:application"
    )


@pytest.mark.parametrize("backend", [GranianASGIServer, GranianWSGIServer])
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"address": "0.0.0.0"}, "--host=0.0.0.0"),
        ({"threads": 1}, "--blocking-threads=1"),
        ({"log-access": True}, "--access-log"),
        ({"log_access": False}, "--no-access-log"),
        ({"ssl-cert": __file__}, f"--ssl-certificate={__file__}"),
        ({"ssl_key": __file__}, f"--ssl-keyfile={__file__}"),
    ],
)
def test_the_names_of_django_prodserver_3_give_granians_own_flags(backend, args, expected):
    interface = "asgi" if backend is GranianASGIServer else "wsgi"
    assert line(args, backend=backend) == (
        f"granian --interface={interface} {expected} myproject.{interface}:application"
    )


def test_the_3_0_example_runs_with_threads_on_wsgi():
    args = {"address": "127.0.0.1", "port": 8000, "threads": 2, "log_access": True}
    assert line(args, backend=GranianWSGIServer) == (
        "granian --interface=wsgi --host=127.0.0.1 --port=8000 --blocking-threads=2 "
        "--access-log myproject.wsgi:application"
    )


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ({"address": "0.0.0.0", "host": "127.0.0.1"}, "host"),
        ({"blocking-threads": 1, "threads": 1}, "blocking_threads"),
        ({"access-log": True, "log-access": True}, "log_access_enabled"),
        ({"ssl-certificate": __file__, "ssl_cert": __file__}, "ssl_certificate"),
        ({"ssl-key": __file__, "ssl-keyfile": __file__}, "ssl_keyfile"),
    ],
)
def test_a_3_0_name_beside_granians_own_is_the_same_option_twice(args, key):
    first, second = args
    with pytest.raises(OptionError) as error:
        line(args, backend=GranianWSGIServer)
    assert str(error.value) == (
        f"Process 'web': ARGS sets granian's `{key}` twice, as `{first}` and as `{second}`. "
        f"Keep one."
    )


def test_threads_above_one_with_asgi_follows_the_blocking_threads_rule():
    with pytest.raises(OptionError) as error:
        line({"threads": 2})
    message = str(error.value)
    assert message.startswith(
        "Process 'web': `threads` (granian's `blocking-threads`) is 2, but granian's ASGI"
    )
    assert "Remove `threads` (or set it to 1)" in message
    assert "GranianWSGIServer" in message


def test_a_typo_of_a_3_0_name_still_gets_a_suggestion():
    with pytest.raises(OptionError, match=r"no option `adress` \(did you mean `address`\?\)"):
        line({"adress": "0.0.0.0"})
    with pytest.raises(OptionError, match=r"no option `ssl-certfile` \(did you mean `ssl-cert"):
        line({"ssl-certfile": __file__})


def test_repeated_options_and_the_unix_socket_permissions():
    assert line({"static-path-route": ["/static", "/media"]}) == (
        "granian --interface=asgi --static-path-route=/static --static-path-route=/media "
        "myproject.asgi:application"
    )
    assert line({"uds": "/tmp/g.sock", "uds-permissions": "0660"}) == (
        "granian --interface=asgi --uds=/tmp/g.sock --uds-permissions=0660 "
        "myproject.asgi:application"
    )


def test_port_and_web_concurrency_from_the_environment_are_visible(monkeypatch):
    monkeypatch.setenv("PORT", "5000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert line({}) == (
        "granian --host=0.0.0.0 --port=5000 --workers=3 --interface=asgi myproject.asgi:application"
    )
    assert line({"uds": "/tmp/g.sock", "workers": 2}, backend=GranianWSGIServer) == (
        "granian --interface=wsgi --uds=/tmp/g.sock --workers=2 myproject.wsgi:application"
    )
    assert line({"host": "127.0.0.1"}) == (
        "granian --workers=3 --interface=asgi --host=127.0.0.1 myproject.asgi:application"
    )


def test_overrides_replace():
    assert line({"port": 8000, "workers": 2}, ["--workers", "8"]) == (
        "granian --interface=asgi --port=8000 --workers=8 myproject.asgi:application"
    )
    assert line({"access-log": True}, ["--no-access-log"]) == (
        "granian --interface=asgi --no-access-log myproject.asgi:application"
    )


def test_argv_form_and_a_named_application():
    assert line(["--port=8000", "--workers", "2", "other.asgi:app"]) == (
        "granian --interface=asgi --port=8000 --workers=2 other.asgi:app"
    )


def test_blocking_threads_above_one_is_an_error_with_asgi():
    with pytest.raises(OptionError) as error:
        line({"blocking-threads": 4})
    message = str(error.value)
    assert message.startswith("Process 'web': `blocking-threads` is 4")
    assert "ASGI interface runs the application on one blocking thread" in message
    assert "Remove `blocking-threads`" in message
    assert "GranianWSGIServer" in message


@pytest.mark.parametrize(
    ("args", "overrides"),
    [
        ({}, ["--blocking-threads=2"]),
        (["--blocking-threads", "2"], ()),
        ({"interface": "asginl"}, ["--blocking-threads=3"]),
    ],
)
def test_blocking_threads_above_one_from_overrides_and_argv(args, overrides):
    with pytest.raises(OptionError, match=r"`blocking-threads` is [23], but granian's ASGI"):
        line(args, overrides)


def test_blocking_threads_from_granians_environment_variable(monkeypatch):
    monkeypatch.setenv("GRANIAN_BLOCKING_THREADS", "2")
    with pytest.raises(OptionError, match=r"is 2 \(from \$GRANIAN_BLOCKING_THREADS\)"):
        line({})
    assert line({}, backend=GranianWSGIServer) == (
        "granian --interface=wsgi myproject.wsgi:application"
    )


@pytest.mark.parametrize(
    ("backend", "interface", "words"),
    [
        (GranianASGIServer, "wsgi", "GranianASGIServer serves the project's ASGI application"),
        (GranianASGIServer, "rsgi", "`interface` is 'rsgi'"),
        (GranianWSGIServer, "asgi", "use django_prodserver.backends.granian.GranianASGIServer"),
    ],
)
def test_an_interface_that_contradicts_the_backend(backend, interface, words):
    with pytest.raises(OptionError, match=r"Process 'web': .*Leave `interface` out") as error:
        line({"interface": interface}, backend=backend)
    assert words in str(error.value)


def test_the_shared_base_class_is_not_a_backend():
    with pytest.raises(OptionError, match=r"use .*GranianASGIServer or .*GranianWSGIServer"):
        line({}, backend=GranianServer)


def test_an_interface_override_that_contradicts_the_backend():
    with pytest.raises(OptionError, match=r"`interface` is 'wsgi'"):
        line({"port": 8000}, ["--interface=wsgi"])


def test_websockets_switched_on_for_wsgi_is_not_ignored_silently():
    with pytest.raises(OptionError, match=r"`ws` is on, but WSGI has no WebSockets"):
        line({"ws": True}, backend=GranianWSGIServer)
    assert line({"no-ws": True}, backend=GranianWSGIServer) == (
        "granian --interface=wsgi --no-ws myproject.wsgi:application"
    )


def test_unknown_option_suggests_granian_names():
    with pytest.raises(
        OptionError, match=r"granian has no option `acess-log` \(did you mean `access-log`"
    ):
        line({"acess-log": True})


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"bind": "0.0.0.0:8000"}, "no option `bind`: granian listens on `host` and `port`"),
    ],
)
def test_other_servers_names_say_what_granian_calls_them(args, words):
    with pytest.raises(OptionError) as error:
        line(args)
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"port": "eighty"}, "Invalid value for '--port': 'eighty' is not a valid integer."),
        ({"workers": 0}, "Invalid value for '--workers': 0 is not in the range x>=1."),
        ({"http": "3"}, "Invalid value for '--http': '3' is not one of 'auto', '1', '2'."),
        ({"workers-lifetime": "10s"}, "Invalid value for '--workers-lifetime'"),
        ({"log-config": "/no/such/file.json"}, "'/no/such/file.json' does not exist"),
    ],
)
def test_invalid_values_are_rejected_by_click(args, words):
    with pytest.raises(OptionError) as error:
        line(args)
    assert str(error.value).startswith("Process 'web': granian rejects the options: ")
    assert words in str(error.value)


def test_invalid_value_in_granians_environment_variable(monkeypatch):
    monkeypatch.setenv("GRANIAN_PORT", "eighty")
    with pytest.raises(OptionError, match=r"Invalid value for '--port'.*eighty"):
        line({})


def test_a_flag_takes_true_or_false():
    with pytest.raises(OptionError, match=r"`access-log` is a flag of granian"):
        line({"access-log": "sometimes"})


@pytest.mark.parametrize(
    ("args", "module", "extra"),
    [
        ({"reload": True}, "watchfiles", "reload"),
        ({"process-name": "web"}, "setproctitle", "pname"),
        ({"loop": "uvloop"}, "uvloop", "uvloop"),
    ],
)
def test_an_option_that_needs_one_of_granians_extras(monkeypatch, args, module, extra):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingPackageError) as error:
        line(args)
    assert f"needs the package '{module}', which is not installed" in str(error.value)
    assert f"pip install 'granian[{extra}]'" in str(error.value)


def test_missing_granian_names_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "granian", None)
    with pytest.raises(MissingPackageError, match=r"pip install 'django-prodserver\[granian\]'"):
        GranianASGIServer(ProcessSpec("web", ASGI, {})).plan()


def test_asgi_module_beside_wsgi_is_found():
    spec = ProcessSpec("web", ASGI, {})
    with override_settings(
        WSGI_APPLICATION="exampleproject.wsgi.application", ASGI_APPLICATION=None
    ):
        assert GranianASGIServer(spec).plan().argv[-1] == "exampleproject.asgi:application"


def test_no_asgi_application_anywhere_says_what_to_set():
    spec = ProcessSpec("web", ASGI, {})
    with (
        override_settings(WSGI_APPLICATION="nowhere.wsgi.application", ASGI_APPLICATION=None),
        pytest.raises(
            ApplicationError, match=r"there is no nowhere/asgi.py.*Create nowhere/asgi.py"
        ),
    ):
        GranianASGIServer(spec).plan()


def test_app_is_not_silently_ignored():
    spec = ProcessSpec("web", WSGI, {}, app="myproject.celery.app")
    with pytest.raises(OptionError, match="APP is for worker backends"):
        GranianWSGIServer(spec).plan()


def test_the_plan_runs_granians_command_through_the_runtime_module():
    spec = ProcessSpec("web", ASGI, {"port": 8000})
    with override_settings(ASGI_APPLICATION="myproject.asgi.application"):
        plan = GranianASGIServer(spec).plan()
    assert plan.module == "django_prodserver.serving.granian"
    assert plan.argv[0] == "granian"
