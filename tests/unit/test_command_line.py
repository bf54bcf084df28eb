from __future__ import annotations

import pytest

from django_prodserver.invocation import split_server_args
from django_prodserver.management.commands.prodserver import Command

PARSER = Command().create_parser("manage.py", "prodserver")


@pytest.mark.parametrize(
    ("tokens", "django", "server"),
    [
        (["web"], ["web"], []),
        (["web", "--workers=8"], ["web"], ["--workers=8"]),
        (["web", "-w", "8", "--dry-run"], ["web", "--dry-run"], ["-w", "8"]),
        (["web", "-k", "gevent", "-v", "2"], ["web", "-v", "2"], ["-k", "gevent"]),
        (["web", "-v2", "--reload"], ["web", "-v2"], ["--reload"]),
        (
            ["--settings", "x.y", "web", "--bind", "a"],
            ["--settings", "x.y", "web"],
            ["--bind", "a"],
        ),
        (["web", "--", "-v", "--settings=x"], ["web"], ["-v", "--settings=x"]),
        (["web", "--reload", "worker"], ["web", "worker"], ["--reload"]),
    ],
)
def test_split(tokens, django, server):
    assert split_server_args(tokens, PARSER, {"web", "worker"}) == (django, server)
