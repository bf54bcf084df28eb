"""The waitress backend's plan: names from waitress's Adjustments, values through its converters."""

from __future__ import annotations

import shlex
from functools import partial

import pytest
from django.test import override_settings

from django_prodserver.backends.waitress import WaitressServer
from django_prodserver.errors import MissingPackageError, OptionError
from django_prodserver.options.waitress import option_table, read_command_line
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

PATH = "django_prodserver.backends.waitress.WaitressServer"


def plan(args, overrides=(), application="myproject.wsgi.application"):
    spec = ProcessSpec("web", PATH, args)
    with override_settings(WSGI_APPLICATION=application):
        return WaitressServer(spec).plan(overrides)


line = partial(support.line, backend=WaitressServer)


def test_a_listen_address_and_threads():
    assert line({"listen": "0.0.0.0:8000", "threads": 8}) == (
        "waitress-serve --listen=0.0.0.0:8000 --threads=8 myproject.wsgi:application"
    )


def test_every_adjustment_that_the_command_line_takes_is_known_in_both_spellings():
    from waitress.adjustments import Adjustments

    table = option_table()
    for name, _ in Adjustments._params:
        if name == "sockets":  # socket objects: not something a command line can hold
            continue
        assert table.find(name, "web")[0].key == name
        assert table.find(name.replace("_", "-"), "web")[0].key == name
        assert table.find("--" + name.replace("_", "-"), "web")[0].key == name


def test_the_table_takes_only_what_waitress_serve_parses():
    """Every flag of the table is a long option of waitress's own getopt parser."""
    from waitress.adjustments import Adjustments

    for option in option_table().options:
        for flag in option.flags + option.negative_flags:
            argv = [f"{flag}=1" if option.takes_value else flag, "app:application"]
            assert Adjustments.parse_args(argv)[1] == ["app:application"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"threads": 8}, "--threads=8"),
        ({"port": 8000}, "--port=8000"),
        ({"host": "127.0.0.1", "port": "8000"}, "--host=127.0.0.1 --port=8000"),
        ({"unix_socket": "/run/app.sock"}, "--unix-socket=/run/app.sock"),
        ({"unix-socket-perms": "660"}, "--unix-socket-perms=660"),
        ({"channel-timeout": 60}, "--channel-timeout=60"),
        ({"connection_limit": 200}, "--connection-limit=200"),
        ({"url_prefix": "/app"}, "--url-prefix=/app"),
        ({"url-scheme": "https"}, "--url-scheme=https"),
        ({"max_request_body_size": 1048576}, "--max-request-body-size=1048576"),
        ({"expose_tracebacks": True}, "--expose-tracebacks"),
        ({"expose-tracebacks": "False"}, "--no-expose-tracebacks"),
        ({"ipv6": False}, "--no-ipv6"),
        ({"no-ipv6": "True"}, "--no-ipv6"),
        ({"ipv4": "true"}, "--ipv4"),
        ({"log_socket_errors": False}, "--no-log-socket-errors"),
        ({"asyncore-use-poll": True}, "--asyncore-use-poll"),
        ({"call": "True"}, "--call"),
        ({"ident": "myapp"}, "--ident=myapp"),
        (
            {"listen": ["127.0.0.1:8000", "[::1]:8000"]},
            "--listen=127.0.0.1:8000 '--listen=[::1]:8000'",
        ),
        (
            {"trusted_proxy": "127.0.0.1", "trusted_proxy_headers": ["x-forwarded-for"]},
            "--trusted-proxy=127.0.0.1 --trusted-proxy-headers=x-forwarded-for",
        ),
        (
            {
                "trusted-proxy": "127.0.0.1",
                "trusted-proxy-headers": ["x-forwarded-for", "x-forwarded-proto"],
            },
            "--trusted-proxy=127.0.0.1 '--trusted-proxy-headers=x-forwarded-for x-forwarded-proto'",
        ),
    ],
)
def test_names_flags_and_lists(args, expected):
    assert line(args) == f"waitress-serve {expected} myproject.wsgi:application"


def test_a_flag_switched_off_without_a_negative_form_is_left_out():
    assert line({"call": False, "threads": 2}) == (
        "waitress-serve --threads=2 myproject.wsgi:application"
    )


def test_none_leaves_an_option_unset():
    assert line({"threads": None, "ident": None}) == "waitress-serve myproject.wsgi:application"


def test_the_line_reads_back_as_the_same_server_through_waitress_serve():
    """`waitress-serve` itself, given the printed line, calls serve() with our adjustments."""
    from waitress.runner import run

    args = {
        "listen": ["127.0.0.1:8000", "127.0.0.1:8001"],
        "threads": 6,
        "no-ipv6": True,
        "url-prefix": "/app",
        "trusted_proxy": "127.0.0.1",
        "trusted_proxy_headers": ["x-forwarded-for", "x-forwarded-proto"],
    }
    planned = plan(args, application="exampleproject.wsgi.application")
    served: dict[str, object] = {}

    def capture(app, **adjustments):
        served.update(adjustments, app=app)

    argv = shlex.split(planned.command_line())
    assert run(argv, _serve=capture) == 0
    from exampleproject.wsgi import application

    assert served.pop("app") is application
    assert served == read_command_line(argv[1:], "web").adjustments
    assert served == {
        "listen": " 127.0.0.1:8000 127.0.0.1:8001",
        "threads": "6",
        "ipv6": "false",
        "url_prefix": "/app",
        "trusted_proxy": "127.0.0.1",
        "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto",
    }


def test_port_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORT", "5000")
    assert line({"threads": 4}) == (
        "waitress-serve --listen=0.0.0.0:5000 --threads=4 myproject.wsgi:application"
    )


@pytest.mark.parametrize(
    "args",
    [
        {"listen": "127.0.0.1:8000"},
        {"host": "127.0.0.1"},
        {"port": 8000},
        {"unix_socket": "/run/app.sock"},
    ],
)
def test_a_configured_address_wins_over_port(monkeypatch, args):
    monkeypatch.setenv("PORT", "5000")
    assert "5000" not in line(args)


def test_web_concurrency_does_not_apply(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "8")
    assert line({"threads": 4}) == "waitress-serve --threads=4 myproject.wsgi:application"


def test_argv_form_and_overrides():
    assert line(["--listen=0.0.0.0:8000", "--threads", "2"], ["--threads=8"]) == (
        "waitress-serve --listen=0.0.0.0:8000 --threads=8 myproject.wsgi:application"
    )


def test_an_override_replaces_rather_than_adds():
    assert line({"listen": "a:1", "threads": 4}, ["--listen=127.0.0.1:9"]) == (
        "waitress-serve --listen=127.0.0.1:9 --threads=4 myproject.wsgi:application"
    )
    assert line({"expose_tracebacks": True}, ["--no-expose-tracebacks"]) == (
        "waitress-serve --no-expose-tracebacks myproject.wsgi:application"
    )


def test_the_application_can_be_named_in_the_argv_form():
    assert line(["--threads=2", "other.wsgi:app"]) == "waitress-serve --threads=2 other.wsgi:app"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"thread": 4}, "waitress has no option `thread` (did you mean `threads`?)"),
        ({"expose-traceback": True}, "did you mean `expose-tracebacks`"),
        ({"workers": 4}, "waitress has no option `workers`: waitress runs one process"),
        ({"bind": "0.0.0.0:8000"}, "waitress's name for an address is `listen`"),
        ({"sockets": "x"}, "waitress has no option `sockets`"),
    ],
)
def test_unknown_options_are_named_with_a_suggestion(args, words):
    with pytest.raises(OptionError) as error:
        line(args)
    assert words in str(error.value)
    assert "Process 'web'" in str(error.value)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"threads": "many"}, "invalid value for waitress's `threads` (many): invalid literal"),
        ({"port": "http"}, "invalid value for waitress's `port` (http)"),
        ({"unix_socket_perms": "rw"}, "invalid value for waitress's `unix_socket_perms` (rw)"),
        ({"threads": 0}, "`threads` must be at least 1"),
        ({"expose_tracebacks": "sometimes"}, "expected True or False"),
        ({"threads": [1, 2]}, "`threads` takes one value"),
        (
            {"listen": "127.0.0.1:8000", "port": 9000},
            "(port=9000; listen=127.0.0.1:8000): host or port may not be set if listen is set",
        ),
        ({"listen": "127.0.0.1:notaport"}, "Invalid host/port specified"),
        (
            {"trusted_proxy_headers": "x-forwarded-for"},
            "trusted_proxy_headers has no meaning without setting trusted_proxy",
        ),
    ],
)
def test_invalid_values_are_rejected_by_waitress_converters(args, words):
    with pytest.raises(OptionError) as error:
        line(args)
    assert words in str(error.value)
    assert "Process 'web'" in str(error.value)


def test_waitress_serve_parser_errors_are_option_errors():
    with pytest.raises(OptionError, match="waitress-serve rejects the options: option --nope"):
        read_command_line(["--nope=1", "app:application"], "web")
    with pytest.raises(OptionError, match="serves one application"):
        read_command_line(["--threads=2"], "web")
    with pytest.raises(OptionError, match="only prints waitress-serve's help"):
        read_command_line(["--help", "app:application"], "web")


def test_read_command_line_gives_create_server_its_keywords():
    command = read_command_line(
        ["--listen=127.0.0.1:8000", "--no-ipv6", "--call", "app:make"], "web"
    )
    assert (command.adjustments, command.application, command.call) == (
        {"listen": " 127.0.0.1:8000", "ipv6": "false"},
        "app:make",
        True,
    )


def test_missing_waitress_names_the_pip_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "waitress", None)
    with pytest.raises(MissingPackageError, match=r"pip install 'django-prodserver\[waitress\]'"):
        plan({})


def test_app_is_not_silently_ignored():
    spec = ProcessSpec("web", PATH, {}, app="myproject.celery.app")
    with pytest.raises(OptionError, match="APP is for worker backends"):
        WaitressServer(spec).plan()
