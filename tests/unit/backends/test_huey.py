"""The Huey backend's plan: run_huey's options, the graceful signal, errors before start."""

from __future__ import annotations

import sys
from functools import partial

import pytest
from django.conf import settings
from django.test import override_settings

from django_prodserver.backends.huey import HueyConsumer
from django_prodserver.errors import MissingPackageError, OptionError, ProdserverError
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

PATH = "django_prodserver.backends.huey.HueyConsumer"
RUN_HUEY = "python manage.py run_huey"


def backend(args=None, stop_signal="SIGTERM"):
    spec = ProcessSpec("huey", PATH, args if args is not None else {}, stop_signal=stop_signal)
    return HueyConsumer(spec)


line = partial(support.line, backend=HueyConsumer, name="huey", stop_signal="SIGTERM")


def test_sigterm_is_made_the_graceful_signal():
    assert line() == f"{RUN_HUEY} --graceful-signal=TERM"


def test_with_sigint_as_stop_signal_huey_keeps_its_own_default():
    assert line(stop_signal="SIGINT") == RUN_HUEY


def test_a_graceful_signal_that_matches_is_kept_once():
    assert line({"graceful_signal": "TERM"}) == f"{RUN_HUEY} --graceful-signal=TERM"
    assert (
        line({"graceful_signal": "INT"}, stop_signal="SIGINT")
        == f"{RUN_HUEY} --graceful-signal=INT"
    )


def test_a_graceful_signal_that_contradicts_the_stop_signal_is_refused():
    with pytest.raises(OptionError) as error:
        line({"graceful_signal": "INT"})
    assert str(error.value) == (
        "Process 'huey': huey stops gracefully on SIGINT (graceful_signal in ARGS), but this "
        "process is stopped with SIGTERM, on which huey interrupts the tasks in progress and "
        "they are lost. Leave graceful_signal out (the process then passes "
        '--graceful-signal=TERM), or set "STOP_SIGNAL": "SIGINT".'
    )
    with pytest.raises(OptionError, match=r"stops gracefully on SIGTERM .*SIGINT"):
        line(["-g", "TERM"], stop_signal="SIGINT")


def test_the_consumer_settings_choice_is_read_too():
    huey = {**settings.HUEY, "consumer": {"graceful_signal": "INT", "workers": 4}}
    with override_settings(HUEY=huey):
        with pytest.raises(OptionError, match=r'graceful_signal in HUEY\["consumer"\]'):
            line()
        assert line(stop_signal="SIGINT") == RUN_HUEY
    with override_settings(HUEY={**huey, "consumer": {"graceful_signal": "TERM"}}):
        assert line() == RUN_HUEY


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"workers": 4}, "--workers=4"),
        ({"worker_type": "process"}, "--worker-type=process"),
        ({"worker-type": "greenlet"}, "--worker-type=greenlet"),
        ({"initial_delay": 0.5}, "--delay=0.5"),
        ({"delay": 0.5}, "--delay=0.5"),
        ({"max_delay": 5, "backoff": 1.5}, "--max-delay=5 --backoff=1.5"),
        ({"shutdown_timeout": 25}, "--shutdown-timeout=25"),
        ({"max_tasks": 100}, "--max-tasks=100"),
        ({"scheduler_interval": 5}, "--scheduler-interval=5"),
        ({"flush_locks": True}, "--flush-locks"),
        ({"extra_locks": "a,b"}, "--extra-locks=a,b"),
        ({"logfile": "/var/log/huey.log"}, "--logfile=/var/log/huey.log"),
        ({"simple": True}, "--simple"),
        ({"huey_verbose": True}, "--huey-verbose"),
        ({"quiet": True}, "--quiet"),
        ({"disable_autoload": True}, "--disable-autoload"),
        # Flags that store False, by their flag's name and by their HUEY["consumer"] name.
        ({"no_periodic": True}, "--no-periodic"),
        ({"periodic": False}, "--no-periodic"),
        ({"disable_health_check": True}, "--disable-health-check"),
        ({"check_worker_health": False}, "--disable-health-check"),
    ],
)
def test_options(args, expected):
    assert line(args) == f"{RUN_HUEY} --graceful-signal=TERM {expected}"


@pytest.mark.parametrize(
    "args",
    [{"periodic": True}, {"no_periodic": False}, {"check_worker_health": True}, {"quiet": False}],
)
def test_flags_that_ask_for_the_default_add_nothing(args):
    assert line(args) == f"{RUN_HUEY} --graceful-signal=TERM"


def test_typed_options_replace_the_configured_ones():
    assert line({"workers": 2, "worker_type": "thread"}, ["-w", "8", "-k", "process"]) == (
        f"{RUN_HUEY} --graceful-signal=TERM --workers=8 --worker-type=process"
    )


def test_the_argv_form():
    assert line(["--workers", "2", "-n"]) == (
        f"{RUN_HUEY} --graceful-signal=TERM --workers=2 --no-periodic"
    )


def test_unknown_option_suggests():
    with pytest.raises(OptionError, match=r"huey has no option `worker` \(did you mean `workers`"):
        line({"worker": 2})


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"worker_type": "fork"}, "argument --worker-type/-k: invalid choice: 'fork'"),
        ({"workers": "many"}, "argument --workers/-w: invalid int value: 'many'"),
        ({"graceful_signal": "HUP"}, "argument --graceful-signal/-g: invalid choice: 'HUP'"),
        ({"periodic": "sometimes"}, "expected True or False"),
    ],
)
def test_bad_values_are_rejected_by_run_hueys_own_parser(args, words):
    with pytest.raises(OptionError) as error:
        line(args)
    assert words in str(error.value)
    assert str(error.value).startswith("Process 'huey': ")


def test_huey_setting_missing():
    with override_settings(HUEY=None), pytest.raises(ProdserverError) as error:
        backend().plan()
    assert str(error.value).startswith(
        "Process 'huey': huey reads its queue from the HUEY setting, which is not set"
    )
    assert '"immediate": False}' in str(error.value)


def test_djhuey_missing_from_installed_apps():
    apps = [app for app in settings.INSTALLED_APPS if app != "huey.contrib.djhuey"]
    with override_settings(INSTALLED_APPS=apps), pytest.raises(ProdserverError) as error:
        backend().plan()
    assert str(error.value).startswith(
        "Process 'huey': huey needs 'huey.contrib.djhuey' in INSTALLED_APPS (it provides "
        "the `run_huey` command).\n"
    )


def test_missing_huey_names_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "huey", None)
    with pytest.raises(MissingPackageError) as error:
        backend().plan()
    assert str(error.value) == (
        "Process 'huey' needs huey, which is not installed.\n"
        "Install it with: pip install 'django-prodserver[huey]'"
    )
