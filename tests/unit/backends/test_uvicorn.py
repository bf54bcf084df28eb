"""The uvicorn backends' plans: names from uvicorn's click command, checked by click."""

from __future__ import annotations

from functools import partial
from importlib.util import find_spec

import pytest
from django.test import override_settings

from django_prodserver.backends.uvicorn import UvicornServer, UvicornWSGIServer
from django_prodserver.errors import ApplicationError, MissingPackageError, OptionError
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

ASGI = "django_prodserver.backends.uvicorn.UvicornServer"


line = partial(support.line, backend=UvicornServer)


def test_asgi_line():
    assert line({"host": "0.0.0.0", "port": 8000, "workers": 4}) == (
        "uvicorn --host=0.0.0.0 --port=8000 --workers=4 myproject.asgi:application"
    )


def test_wsgi_line_names_the_interface_and_the_wsgi_application():
    assert line({"port": 8000}, backend=UvicornWSGIServer) == (
        "uvicorn --interface=wsgi --port=8000 myproject.wsgi:application"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"no-access-log": "True"}, "--no-access-log"),
        ({"access_log": False}, "--no-access-log"),
        ({"proxy-headers": "True"}, "--proxy-headers"),
        ({"proxy_headers": False}, "--no-proxy-headers"),
        ({"reload": True}, "--reload"),
        ({"forwarded-allow-ips": "*"}, "'--forwarded-allow-ips=*'"),
        ({"header": ["X-A:1", "X-B:2"]}, "--header=X-A:1 --header=X-B:2"),
        ({"timeout_keep_alive": 10}, "--timeout-keep-alive=10"),
    ],
)
def test_options_and_flags(args, expected):
    assert line(args) == f"uvicorn {expected} myproject.asgi:application"


def test_port_and_web_concurrency_from_the_environment_are_visible(monkeypatch):
    monkeypatch.setenv("PORT", "5000")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert line({}) == ("uvicorn --host=0.0.0.0 --port=5000 --workers=3 myproject.asgi:application")
    assert line({"uds": "/tmp/u.sock", "workers": 2}) == (
        "uvicorn --uds=/tmp/u.sock --workers=2 myproject.asgi:application"
    )


def test_overrides_replace():
    assert line({"port": 8000, "workers": 2}, ["--workers", "8"]) == (
        "uvicorn --port=8000 --workers=8 myproject.asgi:application"
    )


def test_unknown_option_suggests():
    with pytest.raises(OptionError, match=r"uvicorn has no option `proxy-header`.*proxy-headers"):
        line({"proxy-header": True})


def test_invalid_value_is_rejected_by_click():
    with pytest.raises(OptionError, match=r"Invalid value for '--port'"):
        line({"port": "eighty"})


def test_choices_are_checked_by_click():
    with pytest.raises(OptionError, match=r"--lifespan"):
        line({"lifespan": "sometimes"})


def test_no_asgi_application_anywhere_says_what_to_set():
    spec = ProcessSpec("web", ASGI, {})
    with (
        override_settings(WSGI_APPLICATION="nowhere.wsgi.application", ASGI_APPLICATION=None),
        pytest.raises(
            ApplicationError, match=r"there is no nowhere/asgi.py.*Create nowhere/asgi.py"
        ),
    ):
        UvicornServer(spec).plan()


def test_asgi_module_beside_wsgi_is_found():
    spec = ProcessSpec("web", ASGI, {})
    with override_settings(
        WSGI_APPLICATION="exampleproject.wsgi.application", ASGI_APPLICATION=None
    ):
        assert UvicornServer(spec).plan().argv[-1] == "exampleproject.asgi:application"


# Implementations named by an option: imported before the start


@pytest.mark.skipif(find_spec("uvloop") is not None, reason="uvloop is installed here")
def test_a_loop_whose_package_is_missing_gives_the_pip_line():
    """It used to pass the checks; then every worker crashed, again and again."""
    with pytest.raises(MissingPackageError) as error:
        line({"loop": "uvloop"})
    assert str(error.value) == (
        "Process 'web': uvicorn's `loop` 'uvloop' needs the package 'uvloop', which is not "
        "installed.\nInstall it with: pip install 'django-prodserver[uvicorn]'"
    )


def test_a_misspelt_implementation_suggests_the_nearest():
    with pytest.raises(OptionError, match=r"`http` is 'htttools'.*\(did you mean `httptools`\?\)"):
        line({"http": "htttools"})


def test_an_implementation_path_is_imported():
    assert line({"http": "uvicorn.protocols.http.h11_impl:H11Protocol"}).startswith(
        "uvicorn --http=uvicorn.protocols.http.h11_impl:H11Protocol"
    )
    with pytest.raises(OptionError, match=r"has no `H11Protocl` \(did you mean `H11Protocol`\?\)"):
        line({"http": "uvicorn.protocols.http.h11_impl:H11Protocl"})


def test_implementations_that_need_nothing_more_pass():
    assert line({"loop": "asyncio", "http": "h11", "lifespan": "off", "ws": "none"})
