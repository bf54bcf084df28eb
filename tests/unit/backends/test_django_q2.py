"""The django-q2 backend's plan: qcluster's own few options; the rest is Q_CLUSTER's."""

from __future__ import annotations

import sys
from functools import partial

import pytest
from django.conf import settings
from django.test import override_settings

from django_prodserver.backends.django_q2 import DjangoQ2Worker
from django_prodserver.errors import MissingPackageError, OptionError, ProdserverError
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

pytest.importorskip("django_q")

PATH = "django_prodserver.backends.django_q2.DjangoQ2Worker"


def worker(args=None, app=None):
    return DjangoQ2Worker(ProcessSpec("qcluster", PATH, args or {}, app=app))


line = partial(support.line, backend=DjangoQ2Worker, name="qcluster")


def test_the_documented_line():
    assert line() == "python manage.py qcluster"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"run_once": True}, "--run-once"),
        ({"run-once": False}, ""),
        ({"verbosity": 2}, "--verbosity=2"),
        ({"skip_checks": True}, "--skip-checks"),
        (["--run-once"], "--run-once"),
    ],
)
def test_options_and_flags(args, expected):
    assert line(args) == f"python manage.py qcluster {expected}".rstrip()


@pytest.mark.parametrize("name", ["workers", "timeout", "retry", "queue_limit", "orm"])
def test_cluster_settings_say_where_they_belong(name):
    with pytest.raises(OptionError) as error:
        line({name: 4})
    assert str(error.value) == (
        f"Process 'qcluster': for qcluster, there is no option `{name}`: it is a key of the "
        f'Q_CLUSTER setting: set Q_CLUSTER["{name.replace("-", "_")}"] instead.'
    )


def test_a_cluster_setting_typed_after_the_name_is_refused_too():
    with pytest.raises(OptionError, match=r'set Q_CLUSTER\["workers"\]'):
        line({}, ["--workers=4"])


@pytest.mark.parametrize("args", [{"name": "emails"}, ["-n", "emails"], ["--name=emails"]])
def test_name_is_refused_because_it_changes_nothing(args):
    with pytest.raises(OptionError, match="cannot be used here: on Linux `qcluster --name`"):
        line(args)


def test_an_unknown_name_gets_the_nearest_ones():
    with pytest.raises(OptionError, match=r"has no option `run_onc` \(did you mean `run-once`\?\)"):
        line({"run_onc": True})


def test_app_is_refused():
    with pytest.raises(OptionError, match="APP is for the Celery backends"):
        worker(app="myproject.celery.app").plan()


def test_the_app_must_be_installed():
    installed = [app for app in settings.INSTALLED_APPS if app != "django_q"]
    with override_settings(INSTALLED_APPS=installed), pytest.raises(ProdserverError) as error:
        line()
    assert str(error.value) == (
        "Process 'qcluster': qcluster needs 'django_q' in INSTALLED_APPS (it provides the "
        "`qcluster` command).\n"
        'Add to your settings: INSTALLED_APPS += ["django_q"]'
    )


@pytest.mark.parametrize(("value", "found"), [(None, "is not set"), ({}, "is {}, not a dict")])
def test_q_cluster_must_be_set(value, found):
    with override_settings(Q_CLUSTER=value), pytest.raises(ProdserverError) as error:
        line()
    assert str(error.value) == (
        "Process 'qcluster': qcluster reads its configuration from the Q_CLUSTER setting, "
        f"which {found} (django-q2 would then look for Redis on localhost:6379).\n"
        'Set it; to use the project\'s database as the queue: Q_CLUSTER = {"name": "myproject", '
        '"orm": "default", "workers": 2, "timeout": 60, "retry": 120}'
    )


def test_the_orm_broker_must_name_a_database():
    with override_settings(Q_CLUSTER={"orm": "queue"}), pytest.raises(ProdserverError) as error:
        line()
    assert str(error.value) == (
        "Process 'qcluster': Q_CLUSTER['orm'] names the database 'queue', which is not in "
        "DATABASES ('default')."
    )


def test_a_missing_package_gives_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "django_q", None)
    with pytest.raises(MissingPackageError) as error:
        line()
    assert str(error.value) == (
        "Process 'qcluster' needs django-q2, which is not installed.\n"
        "Install it with: pip install 'django-prodserver[django-q2]'"
    )
