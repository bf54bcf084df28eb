"""django-tasks-db needs Django 5.2: an older Django gets a message, not an ImportError."""

from __future__ import annotations

import django
import pytest

from django_prodserver.backends.django_tasks import DjangoTasksWorker
from django_prodserver.errors import ProdserverError
from django_prodserver.processes import ProcessSpec

PATH = "django_prodserver.backends.django_tasks.DjangoTasksWorker"


def test_django_before_5_2_is_named(monkeypatch):
    if django.VERSION >= (5, 2):  # the newest runs pretend; the oldest run is the real case
        monkeypatch.setattr(django, "VERSION", (4, 2, 0, "final", 0))
    worker = DjangoTasksWorker(ProcessSpec("tasks", PATH))
    with pytest.raises(
        ProdserverError, match=r"Process 'tasks': django-tasks-db needs Django 5\.2"
    ):
        worker.plan()
