"""The exported Compose file passes the Compose Specification's JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.support import export_files

pytestmark = pytest.mark.server
SCHEMA = json.loads((Path(__file__).parent / "compose-spec.json").read_text())
PROCESSES = {
    "web": {
        "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
        "ARGS": {"bind": "0.0.0.0:8000"},
        "ENV": {"GREETING": "${HOME} costs 50%", "SECRET_KEY": "x"},
        "RESTART": "never",
    },
    "asgi": {
        "BACKEND": "django_prodserver.backends.uvicorn.UvicornServer",
        "ARGS": {"uds": "/run/app/asgi.sock"},
    },
    "api": {
        "BACKEND": "django_prodserver.backends.uvicorn.UvicornServer",
        "ARGS": {"host": "0.0.0.0", "port": 8001},
        "HEALTH": {"PATH": "/healthz/", "HOST": "api.example.com", "STATUS": 204},
    },
    "worker.1": {"BACKEND": "tests.unit.backends.custom.EchoBackend", "STOP_SIGNAL": "SIGQUIT"},
}


def errors(document: object) -> list[str]:
    # The file says draft 2019-09, under a URI that is not the draft's own.
    validator = jsonschema.Draft201909Validator(SCHEMA)
    return [error.message for error in validator.iter_errors(document)]


@pytest.mark.parametrize(
    "flags",
    [(), ("--image=registry.example.com/app:1", "--replicas=web=3", "--run-as=app")],
)
def test_the_compose_file_passes_the_schema(make_project, tmp_path, flags):
    project = make_project(PROCESSES)
    [compose] = export_files(project, "compose", tmp_path, "--working-directory=/app", *flags)
    document = yaml.safe_load(compose.read_text())
    assert sorted(document["services"]) == ["api", "asgi", "web", "worker.1"]
    assert errors(document) == []

    # The check can fail: a key the specification does not have is reported.
    document["services"]["web"]["stop_grace"] = "35s"
    assert errors(document) != []
