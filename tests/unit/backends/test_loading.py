from __future__ import annotations

import pytest

from django_prodserver.backends.base import Backend
from django_prodserver.backends.gunicorn import GunicornServer
from django_prodserver.errors import BackendImportError
from django_prodserver.loading import import_backend_class


def test_the_published_path_imports():
    path = "django_prodserver.backends.gunicorn.GunicornServer"
    assert import_backend_class("web", path) is GunicornServer


LEGACY_PATHS = {
    "servers.gunicorn.GunicornServer": "gunicorn.GunicornServer",
    "servers.uvicorn.UvicornServer": "uvicorn.UvicornServer",
    "servers.uvicorn.UvicornWSGIServer": "uvicorn.UvicornWSGIServer",
    "servers.waitress.WaitressServer": "waitress.WaitressServer",
    "servers.granian.GranianASGIServer": "granian.GranianASGIServer",
    "servers.granian.GranianWSGIServer": "granian.GranianWSGIServer",
    "servers.daphne.DaphneServer": "daphne.DaphneServer",
    "servers.hypercorn.HypercornServer": "hypercorn.HypercornServer",
    "servers.flower.CeleryFlower": "celery.CeleryFlower",
    "workers.celery.CeleryWorker": "celery.CeleryWorker",
    "workers.celery.CeleryBeat": "celery.CeleryBeat",
    "workers.django_tasks.DjangoTasksWorker": "django_tasks.DjangoTasksWorker",
    "workers.django_q2.DjangoQ2Worker": "django_q2.DjangoQ2Worker",
    "workers.rq.RQWorker": "rq.RQWorker",
    "workers.dramatiq.DramatiqWorker": "dramatiq.DramatiqWorker",
    "workers.huey.HueyConsumer": "huey.HueyConsumer",
}


@pytest.mark.parametrize(("legacy", "ours"), LEGACY_PATHS.items())
def test_the_other_implementations_3_0_paths_are_the_same_classes(legacy, ours):
    prefix = "django_prodserver.backends."
    assert import_backend_class("web", prefix + legacy) is import_backend_class(
        "web", prefix + ours
    )


def test_the_3_0_modules_import_and_subclass():
    from django_prodserver.backends.servers.gunicorn import GunicornServer as Legacy
    from django_prodserver.backends.workers.celery import CeleryWorker

    class TunedGunicorn(Legacy):
        pass

    assert issubclass(TunedGunicorn, GunicornServer)
    assert CeleryWorker.sub_command == "worker"


def test_a_missing_module_is_named_with_a_suggestion():
    with pytest.raises(
        BackendImportError,
        match=r"no module 'django_prodserver.backends.gunicon'.*"
        r"did you mean 'django_prodserver.backends.gunicorn'",
    ):
        import_backend_class("web", "django_prodserver.backends.gunicon.GunicornServer")


def test_a_missing_class_is_named_with_a_suggestion():
    with pytest.raises(
        BackendImportError, match=r"no backend class 'GunicornSever'.*GunicornServer"
    ):
        import_backend_class("web", "django_prodserver.backends.gunicorn.GunicornSever")


def test_not_a_dotted_path():
    with pytest.raises(BackendImportError, match=r"not a dotted path"):
        import_backend_class("web", "gunicorn")


def test_a_third_party_class_with_the_backend_api_works():
    backend_class = import_backend_class("web", "tests.unit.backends.custom.EchoBackend")
    assert issubclass(backend_class, Backend)
    assert backend_class.server == "echo"


@pytest.mark.parametrize("typo", ["comand", "bse", "managment_command", "_celery"])
def test_the_suggestions_are_backends_only(typo):
    with pytest.raises(BackendImportError) as raised:
        import_backend_class("web", f"django_prodserver.backends.{typo}.Server")
    suggested = str(raised.value).partition("did you mean")[2]
    for helper in ("base", "command", "management_command", "_celery", "servers", "dev"):
        assert f"backends.{helper}'" not in suggested
