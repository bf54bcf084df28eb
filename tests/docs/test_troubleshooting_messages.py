"""The check messages that docs/troubleshooting.md shows are the ones `manage.py check` prints.

Each case is a PRODUCTION_PROCESSES that a user could write; its messages, printed as
`manage.py check` prints them, must appear word for word on the page, so the page cannot
drift from the code.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_prodserver.applications import check_attribute
from django_prodserver.backends.base import Backend, Plan
from django_prodserver.checks import messages_before_a_start, messages_in_depth
from django_prodserver.errors import ApplicationError
from django_prodserver.planning import plan_process
from django_prodserver.processes import read_configuration
from tests.unit.hostile_support import manage

PAGE = Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md"
GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"


def gunicorn_with(args: Any) -> dict[str, Any]:
    return {"web": {"BACKEND": GUNICORN, "ARGS": args}}


CASES = {
    "not a dict": ["web"],
    "definition not a dict": {"web": "gunicorn"},
    "no BACKEND": {"web": {"ARGS": {}}},
    "unknown key": {"web": {"BACKEND": GUNICORN, "PORT": 8000}},
    "ARGS of the wrong type": gunicorn_with(3),
    "APP of the wrong type": {"web": {"BACKEND": GUNICORN, "APP": 3}},
    "unclosed quote": gunicorn_with('--bind=0.0.0.0:8000 --name="web'),
    "no such module": {"web": {"BACKEND": "django_prodserver.backends.gunicron.GunicornServer"}},
    "no such class": {"web": {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServr"}},
    "not a dotted path": {"web": {"BACKEND": "gunicorn"}},
    "unknown option": gunicorn_with({"keep-alive-timeout": 5}),
    "config-file only": gunicorn_with({"on_starting": "myproject.hooks.on_starting"}),
    "bad int": gunicorn_with({"workers": "four"}),
    "negative timeout": gunicorn_with({"timeout": -5}),
    "flag with a word": gunicorn_with({"reload": "sometimes"}),
    "value that is a flag": gunicorn_with({"bind": True}),
    "two values": gunicorn_with({"workers": [1, 2]}),
    "set twice": gunicorn_with({"keepalive": 5, "keep-alive": 5}),
    "a name that is an option": {"--all": {"BACKEND": GUNICORN}},
    "a name that is a path": {"../../x": {"BACKEND": GUNICORN}},
    "a name that is a number": {1: {"BACKEND": GUNICORN}},
    "STOP_TIMEOUT nan": {"web": {"BACKEND": GUNICORN, "STOP_TIMEOUT": float("nan")}},
    "ENV with a NUL": {"web": {"BACKEND": GUNICORN, "ENV": {"GREETING": "hello\x00"}}},
    "ARGS key not a string": gunicorn_with({1: 2}),
    "a port out of range": gunicorn_with({"bind": "0.0.0.0:80000"}),
    "a number too long to write out": gunicorn_with({"workers": 10**5000}),
    "a graceful timeout beyond a day": gunicorn_with({"graceful-timeout": 100000}),
    "a relative BACKEND": {"web": {"BACKEND": "..backends.gunicorn.GunicornServer"}},
    "the base class": {"web": {"BACKEND": "django_prodserver.backends.base.Backend"}},
    "every problem at once": {
        "web": {"BACKEND": GUNICORN, "ARGS": {"workers": "four"}, "RESTART": "sometimes"}
    },
}


class DuckServer:
    """The API without subclassing Backend, with one method that answers wrongly."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        return Plan(self.spec.name, ("server",))

    def listen_address(self, plan: Plan) -> Any:
        return "127.0.0.1:8000"


class Settings:
    """A class that is no backend."""


def start() -> None:
    """A function that is no backend."""


class RaisingServer(Backend):
    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        raise KeyError("PORT")


class ServerWithoutPlan(Backend):
    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Any:
        return None


@pytest.fixture
def myproject_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    """`myproject.backends`, the module the page's examples of a faulty backend name."""
    package, module = types.ModuleType("myproject"), types.ModuleType("myproject.backends")
    package.__path__ = []
    module.MyServer = RaisingServer  # type: ignore[attr-defined]
    module.MyOtherServer = ServerWithoutPlan  # type: ignore[attr-defined]
    module.MyDuckServer = DuckServer  # type: ignore[attr-defined]
    module.Settings = Settings  # type: ignore[attr-defined]
    module.start = start  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "myproject", package)
    monkeypatch.setitem(sys.modules, "myproject.backends", module)


@pytest.mark.parametrize(
    ("backend", "id"),
    [
        ("MyServer", "E012"),
        ("MyOtherServer", "E012"),
        ("MyDuckServer", "E012"),
        ("Settings", "E004"),
        ("start", "E004"),
    ],
)
@pytest.mark.usefixtures("myproject_backends")
def test_the_page_shows_a_faulty_backend_as_check_prints_it(backend, id):
    processes = {"web": {"BACKEND": f"myproject.backends.{backend}"}}
    with override_settings(PRODUCTION_PROCESSES=processes):
        messages = messages_in_depth()

    assert [message.id for message in messages] == [f"prodserver.{id}"]
    assert str(messages[0]) in PAGE.read_text(), f"not on {PAGE.name}:\n{messages[0]}"


@pytest.mark.parametrize("processes", CASES.values(), ids=CASES.keys())
def test_the_page_shows_the_message_as_check_prints_it(processes):
    with override_settings(PRODUCTION_PROCESSES=processes):
        messages = messages_in_depth()

    assert messages
    page = PAGE.read_text()
    for message in messages:
        assert str(message) in page, f"not on {PAGE.name}:\n{message}"


@pytest.mark.parametrize(
    ("module", "args"),
    [("gunicorn", {}), ("gevent", {"worker-class": "gevent"})],
)
def test_the_page_shows_a_missing_package_as_the_start_prints_it(monkeypatch, module, args):
    monkeypatch.setitem(sys.modules, module, None)  # not installed
    with (
        override_settings(PRODUCTION_PROCESSES=gunicorn_with(args)),
    ):
        planned = [plan_process(spec) for spec in read_configuration().specs.values()]
        messages = messages_before_a_start(planned)

    assert [message.id for message in messages] == ["prodserver.E007"]
    assert str(messages[0]) in PAGE.read_text()


APPLICATIONS = {
    "WSGI_APPLICATION not set": (GUNICORN, {"WSGI_APPLICATION": None}),
    "a misspelt WSGI module": (GUNICORN, {"WSGI_APPLICATION": "myproject.wsgii.application"}),
    "no such ASGI package": (
        "django_prodserver.backends.uvicorn.UvicornServer",
        {"ASGI_APPLICATION": "nowhere.asgi.application"},
    ),
}


@pytest.mark.parametrize(("backend", "settings"), APPLICATIONS.values(), ids=APPLICATIONS.keys())
def test_the_page_shows_an_application_that_cannot_be_found(backend, settings):
    processes = {"web": {"BACKEND": backend}}
    with override_settings(PRODUCTION_PROCESSES=processes, **settings):
        messages = messages_in_depth()

    assert [message.id for message in messages] == ["prodserver.E009"]
    assert str(messages[0]) in PAGE.read_text()


def test_the_page_shows_a_missing_attribute_as_the_start_says_it():
    with pytest.raises(ApplicationError) as raised:
        check_attribute("myproject.wsgi:app", "web")
    assert f"CommandError: {raised.value}" in PAGE.read_text()


@pytest.mark.parametrize("argv", [("--export", ""), ("--export", "procfile", "--run-as", "")])
def test_the_page_shows_an_empty_value_as_the_command_says_it(argv):
    with override_settings(PRODUCTION_PROCESSES=gunicorn_with({})):
        outcome = manage("prodserver", *argv)

    assert outcome.status == 1
    assert outcome.stderr.strip() in PAGE.read_text()
