"""`"preload": None` (django-prodserver 3.0's bare flag) really starts gunicorn with it on."""

from __future__ import annotations

import re

import pytest

from tests.support import get

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"

pytestmark = pytest.mark.server


def test_preload_none_starts_gunicorn_with_preload(make_project, port, started):
    address = f"127.0.0.1:{port}"
    project = make_project(
        {"web": {"BACKEND": GUNICORN, "ARGS": {"bind": address, "preload": None}}}
    )
    dry_run = project.manage("prodserver", "web", "--dry-run")
    assert (
        dry_run.stdout == f"gunicorn --bind={address} --preload exampleproject.wsgi:application\n"
    )

    printed = project.manage("prodserver", "web", "--print-config")
    assert printed.returncode == 0, printed.stderr
    assert re.search(r"^preload_app\s+= True$", printed.stdout, flags=re.MULTILINE)

    checked = project.manage("check")
    assert checked.returncode == 0, checked.stderr
    assert "(prodserver.W003) Process 'web': `preload` is None" in checked.stderr

    server = project.start("prodserver", "web")
    started.append(server)
    server.wait_until_serving(address)
    assert get(address) == (200, "Hello from django-prodserver's example project.\n")
    assert server.stop()[0] == 0
