"""The RQ backend's plan: rqworker's own options, queues of RQ_QUEUES, errors before start."""

from __future__ import annotations

import sys
from functools import partial

import pytest
from django.test import override_settings

from django_prodserver.backends.rq import RQWorker
from django_prodserver.errors import MissingPackageError, OptionError, ProdserverError
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

PATH = "django_prodserver.backends.rq.RQWorker"
QUEUES = {
    "high": {"URL": "redis://localhost:6379/0"},
    "default": {"URL": "redis://localhost:6379/0"},
    "reports": {"URL": "redis://reports.internal:6379/1"},
}


def backend(args=None):
    return RQWorker(ProcessSpec("rqworker", PATH, args if args is not None else {}))


line = partial(support.line, backend=RQWorker, name="rqworker", settings={"RQ_QUEUES": QUEUES})


def test_no_args_work_on_the_default_queue():
    assert line() == "python manage.py rqworker"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"queues": ["high", "default"]}, "python manage.py rqworker high default"),
        ({"queues": "high"}, "python manage.py rqworker high"),
        ({"queues": None}, "python manage.py rqworker"),
        ({"burst": True}, "python manage.py rqworker --burst"),
        ({"burst": "False"}, "python manage.py rqworker"),
        ({"with_scheduler": True}, "python manage.py rqworker --with-scheduler"),
        ({"with-scheduler": "True"}, "python manage.py rqworker --with-scheduler"),
        (
            {"worker_ttl": 600, "max-jobs": 100},
            "python manage.py rqworker --worker-ttl=600 --max-jobs=100",
        ),
        ({"max_idle_time": 30}, "python manage.py rqworker --max-idle-time=30"),
        (
            {"name": "w1", "pid": "/run/rq.pid"},
            "python manage.py rqworker --name=w1 --pid=/run/rq.pid",
        ),
        (
            {"worker_class": "rq.worker.SimpleWorker"},
            "python manage.py rqworker --worker-class=rq.worker.SimpleWorker",
        ),
        (
            {"queues": ["high"], "burst": True},
            "python manage.py rqworker --burst high",
        ),
    ],
)
def test_options_and_queues(args, expected):
    assert line(args) == expected


def test_the_argv_form_takes_queues_as_positional_arguments():
    assert line(["--burst", "high", "default"]) == "python manage.py rqworker --burst high default"


def test_typed_options_and_queues_replace_the_configured_ones():
    args = {"queues": ["high", "default"], "max_jobs": 10}
    assert line(args, ["--max-jobs=20"]) == "python manage.py rqworker --max-jobs=20 high default"
    assert (
        line(args, ["--burst", "reports"])
        == "python manage.py rqworker --max-jobs=10 --burst reports"
    )


def test_unknown_option_suggests():
    with pytest.raises(
        OptionError, match=r"django-rq has no option `bursts` \(did you mean `burst`\?\)"
    ):
        line({"bursts": True})


def test_a_bad_value_is_rejected_by_rqworkers_own_parser():
    with pytest.raises(OptionError) as error:
        line({"max_jobs": "many"})
    assert str(error.value) == (
        "Process 'rqworker': `manage.py rqworker` rejects the options: "
        "argument --max-jobs: invalid int value: 'many'."
    )


def test_a_queue_missing_from_rq_queues_suggests():
    with pytest.raises(OptionError) as error:
        line({"queues": ["hihg"]})
    assert str(error.value) == (
        "Process 'rqworker': queue 'hihg' is not in RQ_QUEUES (did you mean 'high'?). "
        "RQ_QUEUES defines 'default', 'high', 'reports'."
    )


def test_the_implicit_default_queue_must_exist():
    only_high = {"high": {"URL": "redis://localhost:6379/0"}}
    with override_settings(RQ_QUEUES=only_high), pytest.raises(OptionError) as error:
        backend().plan()
    assert str(error.value) == (
        "Process 'rqworker': rqworker without queue names works on the 'default' queue, "
        "which RQ_QUEUES does not define (RQ_QUEUES defines 'high').\n"
        'Name the queues to work on: "ARGS": {"queues": ["high"]}'
    )


def test_queues_of_one_worker_share_a_connection():
    with pytest.raises(OptionError, match="queues 'high' and 'reports' use different Redis"):
        line({"queues": ["high", "reports"]})


@pytest.mark.parametrize("value", [[], [""], [3], {"high": 1}])
def test_queues_must_be_names(value):
    with pytest.raises(OptionError, match=r"`queues` takes a queue name or a list of queue names"):
        line({"queues": value})


def test_rq_queues_missing():
    with override_settings(RQ_QUEUES=None), pytest.raises(ProdserverError) as error:
        backend().plan()
    assert str(error.value) == (
        "Process 'rqworker': django-rq reads its queues from the RQ_QUEUES setting, "
        "which is not set.\n"
        'Add it: RQ_QUEUES = {"default": {"URL": "redis://localhost:6379/0"}}'
    )


def test_django_rq_missing_from_installed_apps():
    from django.conf import settings

    apps = [app for app in settings.INSTALLED_APPS if app != "django_rq"]
    with override_settings(INSTALLED_APPS=apps), pytest.raises(ProdserverError) as error:
        backend().plan()
    message = str(error.value)
    assert message.startswith(
        "Process 'rqworker': django-rq needs 'django_rq' in INSTALLED_APPS (it provides "
        "the `rqworker` command).\n"
    )
    assert message.endswith('"django_rq"]')


def test_missing_django_rq_names_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "django_rq", None)
    with pytest.raises(MissingPackageError) as error:
        backend().plan()
    assert str(error.value) == (
        "Process 'rqworker' needs django-rq, which is not installed.\n"
        "Install it with: pip install 'django-prodserver[rq]'"
    )


def test_the_plan_does_not_touch_redis():
    # `manage.py check` plans every process: a Redis that is down must not fail it.
    with override_settings(RQ_QUEUES={"default": {"URL": "redis://:pw@127.0.0.1:1/0"}}):
        assert backend().plan().command_line() == "python manage.py rqworker"


def test_run_probes_redis_first_and_masks_the_password():
    unreachable = {"default": {"URL": "redis://:hunter2@127.0.0.1:1/0"}}
    with override_settings(RQ_QUEUES=unreachable):
        worker = backend()
        plan = worker.plan()
        with pytest.raises(ProdserverError) as error:
            worker.run(plan)
    message = str(error.value)
    assert message.startswith(
        "Process 'rqworker': RQ cannot reach its Redis at redis://:********@127.0.0.1:1/0: "
    )
    assert "Connection refused" in message
    assert message.endswith("\nStart Redis there, or point RQ_QUEUES at a Redis that runs.")
    assert "hunter2" not in message
