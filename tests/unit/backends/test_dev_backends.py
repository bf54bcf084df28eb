"""The development backends' plans: runserver's, daphne's runserver, Werkzeug's server.

Each of the six BACKEND paths (the other implementation's `dev.*` and older ones) loads
and plans; names and values are checked before anything starts.
"""

from __future__ import annotations

import sys

import pytest
from django.conf import settings
from django.test import override_settings

from django_prodserver.errors import MissingPackageError, OptionError, ProdserverError
from django_prodserver.loading import load_backend
from django_prodserver.processes import ProcessSpec

RUNSERVER = (
    "django_prodserver.backends.dev.django_runserver.DjangoRunserver",
    "django_prodserver.backends.django_runserver.DjangoRunserver",
)
WERKZEUG = (
    "django_prodserver.backends.dev.werkzeug.WerkzeugRunserver",
    "django_prodserver.backends.werkzeug.WerkzeugRunserver",
)
DAPHNE = (
    "django_prodserver.backends.dev.daphne.DaphneRunserver",
    "django_prodserver.backends.daphne.DaphneRunserver",
)
WITH_DAPHNE = {
    "INSTALLED_APPS": ["daphne", *settings.INSTALLED_APPS],
    "ASGI_APPLICATION": "exampleproject.asgi.application",
}


def plan(path, args=None, overrides=()):
    return load_backend(ProcessSpec("web", path, args or {})).plan(overrides)


def line(path, args=None, overrides=()):
    return plan(path, args, overrides).command_line()


@pytest.mark.parametrize("path", RUNSERVER)
def test_runserver_plans_the_line_a_person_types(path):
    backend = load_backend(ProcessSpec("web", path, {}))
    assert backend.kind == "web"
    assert line(path, {"addrport": "127.0.0.1:8001", "use_reloader": False}) == (
        "python manage.py runserver --noreload 127.0.0.1:8001"
    )
    assert line(path, {"nothreading": True, "ipv6": "True"}) == (
        "python manage.py runserver --nothreading --ipv6"
    )
    assert line(path) == "python manage.py runserver"


def test_runserver_options_typed_after_the_name_replace_args():
    assert line(RUNSERVER[0], {"noreload": False}, ["--noreload"]) == (
        "python manage.py runserver --noreload"
    )


def test_runserver_listens_where_addrport_says():
    address = load_backend(ProcessSpec("web", RUNSERVER[0], {})).listen_address(
        plan(RUNSERVER[0], {"addrport": "0.0.0.0:9000"})
    )
    assert address is not None
    assert (address.host, address.port) == ("0.0.0.0", 9000)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"nothreadin": True}, "runserver has no option `nothreadin` (did you mean `nothreading`"),
        ({"noreload": "maybe"}, "`noreload` is a flag of runserver; expected True or False"),
        ({"addrport": "127.0.0.1:99999"}, "`addrport` is a port or host:port"),
        ({"addrport": "not an address"}, "`addrport` is a port or host:port"),
        ({"addrport": True}, "`addrport` is a port or host:port"),
    ],
)
def test_runserver_refuses_bad_options(args, message):
    with pytest.raises(OptionError, match=r"^Process 'web': ") as error:
        plan(RUNSERVER[0], args)
    assert message in str(error.value)


def test_runserver_says_when_it_would_refuse_to_start():
    with (
        override_settings(DEBUG=False, ALLOWED_HOSTS=[]),
        pytest.raises(ProdserverError, match="Set ALLOWED_HOSTS"),
    ):
        plan(RUNSERVER[0])


@pytest.mark.parametrize("path", WERKZEUG)
def test_werkzeug_plans_its_call_in_this_process(path):
    backend = load_backend(ProcessSpec("web", path, {}))
    assert backend.kind == "web"
    assert line(path) == (
        "in this process (manage.py prodserver web): werkzeug.serving.run_simple("
        "'127.0.0.1', 8000, exampleproject.wsgi.application, threaded=False, "
        "use_reloader=True, use_debugger=True)"
    )
    assert line(path, {"addrport": "0.0.0.0:8080", "threaded": "True", "use_debugger": False}) == (
        "in this process (manage.py prodserver web): werkzeug.serving.run_simple("
        "'0.0.0.0', 8080, exampleproject.wsgi.application, threaded=True, "
        "use_reloader=True, use_debugger=False)"
    )


def test_werkzeug_options_typed_after_the_name_replace_args():
    planned = plan(WERKZEUG[0], {"threaded": True, "addrport": "8001"}, ["--noreload", "9002"])
    assert (planned.port, planned.switches) == (
        9002,
        {"threaded": True, "use_reloader": False, "use_debugger": True},
    )


def test_werkzeug_serves_https_with_both_files(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("-")
    key.write_text("-")
    planned = plan(WERKZEUG[0], {"cert_file": str(cert), "key_file": str(key)})
    assert planned.ssl == (str(cert), str(key))
    assert f"ssl_context=('{cert}', '{key}')" in planned.command_line()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"threadd": True}, "runserver_plus has no option `threadd` (did you mean `threaded`"),
        ({"use-debuger": True}, "(did you mean `use-debugger`"),
        ({"threaded": "sometimes"}, "`threaded` is a flag of runserver_plus; expected True or"),
        ({"addrport": "localhost:http"}, "`addrport` is a port or host:port"),
        ({"addrport": "127.0.0.1:0"}, "(a port from 1 to 65535), got '127.0.0.1:0'"),
        ({"cert_file": "/tmp/c.pem"}, "`cert_file` is set but `key_file` is not"),
        ({"key_file": "/tmp/k.pem"}, "`key_file` is set but `cert_file` is not"),
        ({"cert_file": "/nowhere/c", "key_file": "/nowhere/k"}, "'/nowhere/c', which is not a"),
    ],
)
def test_werkzeug_refuses_bad_options(args, message):
    with pytest.raises(OptionError, match=r"^Process 'web': ") as error:
        plan(WERKZEUG[0], args)
    assert message in str(error.value)


def test_a_missing_werkzeug_is_the_missing_package_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "werkzeug", None)
    with pytest.raises(MissingPackageError) as error:
        plan(WERKZEUG[1])
    assert str(error.value) == (
        "Process 'web' needs Werkzeug, which is not installed.\n"
        "Install it with: pip install 'django-prodserver[werkzeug]'"
    )


@pytest.mark.parametrize("path", DAPHNE)
def test_daphne_runserver_plans_the_runserver_line(path):
    with override_settings(**WITH_DAPHNE):
        assert load_backend(ProcessSpec("web", path, {})).kind == "web"
        assert line(path, {"addrport": "8002", "http_timeout": 30}) == (
            "python manage.py runserver --http_timeout=30 8002"
        )
        with pytest.raises(OptionError, match=r"daphne runserver has no option `bogus`"):
            plan(path, {"bogus": 1})


@pytest.mark.parametrize("path", DAPHNE)
def test_daphne_runserver_needs_no_daphne_in_installed_apps(path):
    """As django-prodserver 3.0's: daphne's command is loaded from daphne's package, and
    runs inside `prodserver`, since `manage.py runserver` is then another app's."""
    note = (
        "  # run inside `manage.py prodserver web`: `manage.py runserver` is "
        '{}\'s without "daphne" first in INSTALLED_APPS'
    )
    command = "daphne.management.commands.runserver.Command"
    with override_settings(ASGI_APPLICATION="exampleproject.asgi.application"):
        assert line(path, {"addrport": "8002", "http_timeout": 30}) == (
            f"{command} --http_timeout=30 8002" + note.format("django.core")
        )
    apps = [*settings.INSTALLED_APPS, "django.contrib.staticfiles", "daphne"]
    with override_settings(INSTALLED_APPS=apps, ASGI_APPLICATION="exampleproject.asgi.app"):
        assert line(path) == command + note.format("django.contrib.staticfiles")


def test_daphne_runserver_names_the_asgi_application_to_set():
    with override_settings(INSTALLED_APPS=WITH_DAPHNE["INSTALLED_APPS"]):
        del settings.ASGI_APPLICATION
        with pytest.raises(ProdserverError) as error:
            plan(DAPHNE[0])
        assert str(error.value).endswith("ASGI_APPLICATION = 'exampleproject.asgi.application'")
        # The WSGI runserver that daphne's falls back to needs none.
        assert line(DAPHNE[0], {"noasgi": True}) == "python manage.py runserver --noasgi"
