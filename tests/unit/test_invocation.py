"""What was typed becomes one Invocation; what a mode does not take is refused, by data."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_prodserver.invocation import MODE_RULES, Invocation
from django_prodserver.modes import MODES

WAITRESS = {"BACKEND": "django_prodserver.backends.waitress.WaitressServer"}
RELEASE = {"BACKEND": "django_prodserver.backends.release.ReleaseCommand", "ARGS": ["migrate"]}


def refusal(*typed: str) -> str:
    with (
        override_settings(PRODUCTION_PROCESSES={"web": WAITRESS, "migrate": RELEASE}),
        pytest.raises(CommandError) as error,
    ):
        call_command("prodserver", *typed)
    return str(error.value)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            ["--probe", "web", "--all"],
            "--probe asks one process, named as --probe NAME; leave out --all.",
        ),
        (
            ["--probe", "web", "web", "--dry-run"],
            "--probe asks one process, named as --probe NAME; leave out web --dry-run.",
        ),
        (
            ["--release", "--all"],
            "--release runs the release steps as configured: it takes their names (default: "
            "every one), not --all nor options typed after them.",
        ),
        (
            ["web", "--output=/tmp/x", "--project=shop"],
            "--output, --project: only for --export FORMAT (one of procfile, systemd, "
            "supervisor, compose, kubernetes, dockerfile); a process that starts takes no such "
            "option.",
        ),
        (["web", "--all"], "Give process names or --all, not both (got --all and web)."),
        (["--list", "--dry-run"], "--list shows the processes as configured; leave out --dry-run."),
        (
            ["--export", "procfile", "--dry-run"],
            "--export writes the processes as configured; leave out --dry-run.",
        ),
        (
            ["--list", "--release"],
            "--list and --release: give one of --list, --probe, --export, --release, --reload "
            "at a time.",
        ),
        (
            ["--export", " "],
            "--export was given an empty value; it takes a format, one of "
            "procfile, systemd, supervisor, compose, kubernetes, dockerfile.",
        ),
    ],
)
def test_a_part_of_the_command_line_its_mode_does_not_take_is_refused(typed, message):
    assert refusal(*typed) == message


def test_options_typed_after_the_name_are_refused_by_a_mode_that_does_not_take_them():
    invocation = Invocation.typed({"names": ["web"], "list": True}, [])
    assert invocation.mode == "list"
    with pytest.raises(Exception, match="leave out --workers=2"):
        Invocation.typed({"names": ["web"], "list": True}, ["--workers=2"])


def test_every_mode_has_its_rule_and_its_function():
    assert MODES.keys() == MODE_RULES.keys()


def test_the_typed_invocation_holds_what_a_start_needs():
    options = {"names": ["web"], "dry_run": True, "settings": "site.prod", "verbosity": 2}
    invocation = Invocation.typed(options, ["--threads=8"], kind="web")
    assert (invocation.mode, invocation.names, invocation.dry_run) == ("start", ("web",), True)
    assert invocation.overrides == ("--threads=8",)
    assert (invocation.django.settings, invocation.django.verbosity) == ("site.prod", 2)
    assert invocation.kind == "web"
    assert invocation.export is None
