"""The checks get how far to go as an argument: a start's plans, or `manage.py check`'s depth."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.checks.registry import registry
from django.core.management import call_command
from django.core.management.base import BaseCommand, SystemCheckError
from django.test import override_settings

from django_prodserver.checks import (
    check_production_processes,
    registered,
    run_checks,
    start_scope,
)
from django_prodserver.planning import plan_process
from django_prodserver.processes import read_configuration

BROKEN = {
    "web": {"BACKEND": "django_prodserver.backends.waitress.WaitressServer", "ARGS": {"nope": 1}}
}


def prodserver_checks() -> list[Any]:
    return [check for check in registry.registered_checks if "prodserver" in check.tags]


@override_settings(PRODUCTION_PROCESSES=BROKEN)
def test_a_start_checks_the_plans_it_hands_over_and_then_leaves_the_registry_as_it_was():
    before = prodserver_checks()
    planned = [plan_process(spec) for spec in read_configuration().specs.values()]
    command = BaseCommand(stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(SystemCheckError, match=r"prodserver\.E008"):
        run_checks(command, start_scope(planned))
    assert prodserver_checks() == before == [check_production_processes]


@override_settings(PRODUCTION_PROCESSES=BROKEN)
def test_only_the_shape_is_checked_outside_a_start_and_manage_py_check():
    assert check_production_processes() == []  # an option is checked in depth only
    with registered(start_scope([])):
        [check] = prodserver_checks()
        assert [message.id for message in check()] == ["prodserver.E008"]
    with pytest.raises(SystemCheckError, match=r"prodserver\.E008"):
        call_command("check", tags=["prodserver"], stdout=io.StringIO(), stderr=io.StringIO())
