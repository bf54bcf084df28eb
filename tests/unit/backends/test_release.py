"""A release step is checked like every process: its command exists, its arguments parse."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_prodserver.checks import messages_in_depth
from django_prodserver.errors import OptionError
from django_prodserver.loading import load_backend
from django_prodserver.processes import ProcessSpec

RELEASE = "django_prodserver.backends.release.ReleaseCommand"


def plan(args, **extra):
    return load_backend(ProcessSpec("migrate", RELEASE, args=args, **extra)).plan()


def test_the_plan_is_the_command_line():
    assert plan(("migrate", "--noinput")).command_line() == "python manage.py migrate --noinput"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("migrat",),
            "Process 'migrate': there is no management command `migrat` (did you mean "
            "`migrate`, `sqlmigrate` or `showmigrations`?). ARGS starts with the command "
            '(`python manage.py help` lists them).\nHint: "ARGS": ["migrate", "--noinput"]',
        ),
        (
            ("migrate", "--no-input-please"),
            "Process 'migrate': `manage.py migrate` rejects the arguments "
            "'--no-input-please': unrecognized arguments: --no-input-please.",
        ),
        (
            (),
            "Process 'migrate': ARGS is empty; a release step's ARGS is the management "
            'command to run and its arguments.\nHint: "ARGS": ["migrate", "--noinput"]',
        ),
        (
            {"noinput": True},
            "Process 'migrate': a release step's ARGS is the management command and its "
            "arguments, as a list of words (a dict of options names no command).\n"
            'Hint: "ARGS": ["migrate", "--noinput"]',
        ),
        (
            ("prodserver", "web"),
            "Process 'migrate': `prodserver` starts a process that runs until it is stopped, "
            "so it cannot be a release step, which must finish. Define it as a process of "
            "its own.",
        ),
    ],
)
def test_a_bad_step_says_what_to_fix(args, message):
    with pytest.raises(OptionError) as error:
        plan(args)
    assert str(error.value) == message


def test_check_reports_every_bad_step_in_one_round():
    processes = {
        "one": {"BACKEND": RELEASE, "ARGS": ["migrat"]},
        "two": {"BACKEND": RELEASE, "ARGS": "migrate --bogus"},
        "good": {"BACKEND": RELEASE, "ARGS": ["migrate", "--noinput"]},
    }
    with override_settings(PRODUCTION_PROCESSES=processes):
        messages = messages_in_depth()
    assert [(message.id, message.msg.split(":")[0]) for message in messages] == [
        ("prodserver.E008", "Process 'one'"),
        ("prodserver.E008", "Process 'two'"),
    ]
    assert "there is no management command `migrat`" in messages[0].msg
    assert "`manage.py migrate` rejects the arguments '--bogus'" in messages[1].msg
