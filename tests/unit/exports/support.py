"""Running `prodserver --export` in-process, with a process table of the test's own."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command
from django.test import override_settings

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"
WAITRESS = "django_prodserver.backends.waitress.WaitressServer"
HYPERCORN = "django_prodserver.backends.hypercorn.HypercornServer"
DAPHNE = "django_prodserver.backends.daphne.DaphneServer"
GRANIAN = "django_prodserver.backends.granian.GranianWSGIServer"
RUNS_ONCE = "tests.unit.exports.backends.RunsOnce"
WORKER = "tests.unit.backends.custom.EchoBackend"
# Flags that make the output the same on every machine.
HOST = ("--python=/srv/app/venv/bin/python", "--working-directory=/srv/app")
CONTAINER = ("--image=registry.example.com/app:1.0", "--project=app")
FLAGS = {
    "procfile": ("--python=python",),
    "systemd": HOST,
    "supervisor": HOST,
    "compose": CONTAINER,
    "kubernetes": CONTAINER,
}
FORMATS = tuple(FLAGS)


def export(format: str, processes: dict[str, Any], *args: str) -> str:
    """What `prodserver --export FORMAT ARGS` prints for these processes."""
    stdout = io.StringIO()
    with override_settings(PRODUCTION_PROCESSES=processes):
        call_command("prodserver", "--export", format, *FLAGS[format], *args, stdout=stdout)
    return stdout.getvalue()
