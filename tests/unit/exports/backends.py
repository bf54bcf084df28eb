"""Backends of the export tests' own: one that must never run twice at once."""

from __future__ import annotations

from tests.unit.backends.custom import EchoBackend


class RunsOnce(EchoBackend):
    """Like Celery beat: a second copy would do every scheduled thing twice."""

    single_instance = True
