from __future__ import annotations

import pytest

from django_prodserver.backends.gunicorn import GunicornServer
from django_prodserver.errors import BackendImportError
from django_prodserver.loading import canonical_path, import_backend_class


def test_the_published_path_imports():
    path = "django_prodserver.backends.gunicorn.GunicornServer"
    assert import_backend_class("web", path) is GunicornServer


def test_the_other_implementations_3_0_paths_are_aliases():
    assert canonical_path("django_prodserver.backends.servers.gunicorn.GunicornServer") == (
        "django_prodserver.backends.gunicorn.GunicornServer"
    )
    assert (
        import_backend_class("web", "django_prodserver.backends.servers.gunicorn.GunicornServer")
        is GunicornServer
    )


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
    assert import_backend_class("web", "tests.unit.backends.custom.EchoBackend").server == "echo"
