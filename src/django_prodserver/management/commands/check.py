"""Django's `check`, with PRODUCTION_PROCESSES checked in depth.

Django runs the system checks before most commands too (`migrate`, `runserver` at each
reload); there only the shape of each definition is checked, since validating every option
imports every server. This command does the whole work, as `prodserver` does for the
processes it starts. Django's test runner calls it, so a project's tests check in depth.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.check import Command as DjangoCheckCommand

from django_prodserver.checks import IN_DEPTH, registered


class Command(DjangoCheckCommand):
    def handle(self, *app_labels: Any, **options: Any) -> None:
        with registered(IN_DEPTH):
            super().handle(*app_labels, **options)
