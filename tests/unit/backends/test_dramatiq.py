"""The Dramatiq backend's plan: rundramatiq's options (lists for --queues), errors before start."""

from __future__ import annotations

import sys
from functools import partial

import pytest
from django.conf import settings
from django.test import override_settings

from django_prodserver.backends.dramatiq import DramatiqWorker, spread_values
from django_prodserver.errors import MissingPackageError, OptionError, ProdserverError
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

PATH = "django_prodserver.backends.dramatiq.DramatiqWorker"
RUNDRAMATIQ = "python manage.py rundramatiq"
MULTI = frozenset({"--queues", "-Q", "--path", "-P"})


def backend(args=None):
    return DramatiqWorker(ProcessSpec("dramatiq", PATH, args if args is not None else {}))


line = partial(support.line, backend=DramatiqWorker, name="dramatiq")


def test_no_args():
    assert line() == RUNDRAMATIQ


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"processes": 2, "threads": 4}, "--processes=2 --threads=4"),
        ({"queues": ["high", "default"]}, "--queues high default"),
        ({"queues": "emails"}, "--queues emails"),
        ({"Q": ["a"]}, "--queues a"),
        ({"path": ["src", "lib"]}, "--path src lib"),
        ({"worker_shutdown_timeout": 25000}, "--worker-shutdown-timeout=25000"),
        ({"pid_file": "/run/dramatiq.pid"}, "--pid-file=/run/dramatiq.pid"),
        ({"log_file": "/var/log/dramatiq.log"}, "--log-file=/var/log/dramatiq.log"),
        ({"skip_logging": True}, "--skip-logging"),
        ({"use_spawn": "True"}, "--use-spawn"),
        ({"use_gevent": False}, ""),
        (
            {"fork_function": ["app.forks.a", "app.forks.b"]},
            "--fork-function=app.forks.a --fork-function=app.forks.b",
        ),
        ({"reload": True}, "--reload"),
        (
            {"queues": ["high"], "processes": 1, "path": "."},
            "--queues high --processes=1 --path .",
        ),
    ],
)
def test_options(args, expected):
    assert line(args) == f"{RUNDRAMATIQ} {expected}".rstrip()


def test_typed_options_replace_the_configured_ones():
    args = {"processes": 2, "queues": ["high", "default"]}
    assert line(args, ["-p", "4"]) == f"{RUNDRAMATIQ} --processes=4 --queues high default"
    assert line(args, ["--queues", "emails", "reports", "--threads=1"]) == (
        f"{RUNDRAMATIQ} --processes=2 --queues emails reports --threads=1"
    )


def test_the_argv_form_takes_several_values_after_one_flag():
    assert line(["-Q", "high", "default", "--processes", "2"]) == (
        f"{RUNDRAMATIQ} --queues high default --processes=2"
    )


def test_a_bare_queues_flag_is_every_queue():
    assert line(["--queues", "--threads=2"]) == f"{RUNDRAMATIQ} --queues --threads=2"


def test_unknown_option_suggests():
    with pytest.raises(
        OptionError, match=r"django-dramatiq has no option `thread` \(did you mean `threads`"
    ):
        line({"thread": 2})


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"processes": "many"}, "argument --processes/-p: invalid int value: 'many'"),
        ({"reload": True, "watch": "src"}, "argument --watch: not allowed with argument --reload"),
        ({"threads": [1, 2]}, "`threads` takes one value"),
    ],
)
def test_bad_values_are_rejected(args, words):
    with pytest.raises(OptionError) as error:
        line(args)
    assert words in str(error.value)
    assert str(error.value).startswith("Process 'dramatiq': ")


def test_dramatiq_broker_missing():
    with override_settings(DRAMATIQ_BROKER=None), pytest.raises(ProdserverError) as error:
        backend().plan()
    assert str(error.value).startswith(
        "Process 'dramatiq': django-dramatiq reads its broker from the DRAMATIQ_BROKER "
        "setting, which is not set (without it, it connects to a RabbitMQ on localhost).\n"
    )


def test_django_dramatiq_missing_from_installed_apps():
    apps = [app for app in settings.INSTALLED_APPS if app != "django_dramatiq"]
    with override_settings(INSTALLED_APPS=apps), pytest.raises(ProdserverError) as error:
        backend().plan()
    assert str(error.value).startswith(
        "Process 'dramatiq': django-dramatiq needs 'django_dramatiq' in INSTALLED_APPS "
        "(it provides the `rundramatiq` command).\n"
    )


def test_missing_django_dramatiq_names_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "django_dramatiq", None)
    with pytest.raises(MissingPackageError) as error:
        backend().plan()
    assert str(error.value) == (
        "Process 'dramatiq' needs django-dramatiq, which is not installed.\n"
        "Install it with: pip install 'django-prodserver[dramatiq]'"
    )


@pytest.mark.parametrize(
    ("argv", "spread"),
    [
        (["--queues", "a", "b", "-p", "2"], ["--queues=a", "--queues=b", "-p", "2"]),
        (["-Q", "a"], ["-Q=a"]),
        (["--queues"], ["--queues"]),
        (["--queues", "--threads=1"], ["--queues", "--threads=1"]),
        (["--threads", "1"], ["--threads", "1"]),
    ],
)
def test_spread_values(argv, spread):
    assert spread_values(argv, MULTI) == spread


def test_a_repeated_multi_value_option_is_written_once_where_it_first_came():
    argv = ["--queues=a", "--processes=2", "--queues=b", "--path=."]
    assert line(argv) == f"{RUNDRAMATIQ} --queues a b --processes=2 --path ."
