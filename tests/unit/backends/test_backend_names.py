"""BACKEND names that packages register under the entry point group django_prodserver.backends."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_prodserver.backend_names import ENTRY_POINT_GROUP
from django_prodserver.errors import BackendImportError
from django_prodserver.listing import process_table
from django_prodserver.loading import load_backend
from django_prodserver.processes import ProcessSpec
from tests.unit.backends.support import APPLICATIONS, install_distribution


@pytest.fixture
def registered(tmp_path, monkeypatch):
    """An installed distribution that registers `ourserver` (our gunicorn backend)."""
    install_distribution(
        tmp_path,
        "ourservers",
        "2.0",
        f"[{ENTRY_POINT_GROUP}]\nourserver = django_prodserver.backends.gunicorn:GunicornServer\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def test_a_registered_name_loads_its_backend_and_says_where_it_came_from(registered):
    backend = load_backend(ProcessSpec("web", "ourserver", {"bind": "127.0.0.1:9000"}))
    with override_settings(**APPLICATIONS):
        assert backend.plan().command_line() == (
            "gunicorn --bind=127.0.0.1:9000 myproject.wsgi:application"
        )
    assert backend.origin == (
        f"'ourserver', registered by ourservers 2.0 (entry point group {ENTRY_POINT_GROUP})"
    )
    processes = {"web": {"BACKEND": "ourserver", "ARGS": {"bind": "127.0.0.1:9000"}}}
    with override_settings(PRODUCTION_PROCESSES=processes, **APPLICATIONS):
        [(_, _, shown, _)] = process_table()
    assert shown == f"ourserver ({backend.origin})"


def test_an_unknown_name_lists_the_registered_ones(registered):
    with pytest.raises(BackendImportError) as error:
        load_backend(ProcessSpec("web", "oursrever"))
    assert str(error.value) == (
        "Process 'web': BACKEND 'oursrever' is not a dotted path to a class, such as "
        "'django_prodserver.backends.gunicorn.GunicornServer', nor a name that an installed "
        f"package registers under the entry point group '{ENTRY_POINT_GROUP}' (did you mean "
        "'ourserver'?) (registered: ourserver)."
    )
