"""No secret from ENV is written into a generated file: each engine gets a reference."""

from __future__ import annotations

import pytest
import yaml

from tests.unit.exports.support import FORMATS, GUNICORN, WORKER, export

SECRET_VALUES = ("s3cr3t-value", "hunter2", "tok-123", "k3y-v4lue")
PROCESSES = {
    "web": {
        "BACKEND": GUNICORN,
        "ARGS": {"bind": "0.0.0.0:8000"},
        "ENV": {
            "DJANGO_SECRET_KEY": "s3cr3t-value",
            "DATABASE_URL": "postgres://app:hunter2@db:5432/app",
            "GITHUB_TOKEN": "tok-123",
            "STRIPE_KEY": "k3y-v4lue",
            "LOG_LEVEL": "info",
            "CACHE_URL": "redis://cache:6379/0",
        },
    },
    "worker": {"BACKEND": WORKER},
}
SECRET_NAMES = ["DATABASE_URL", "DJANGO_SECRET_KEY", "GITHUB_TOKEN", "STRIPE_KEY"]


@pytest.mark.parametrize("format", FORMATS)
def test_secret_values_are_never_written(format):
    output = export(format, PROCESSES)
    for value in SECRET_VALUES:
        assert value not in output
    # What is not secret is written as it is.
    assert "redis://cache:6379/0" in output
    assert "info" in output


def test_systemd_reads_secrets_from_the_environment_file():
    output = export("systemd", PROCESSES, "--environment-file=/etc/app/env")
    web, worker, _ = output.split("# ==> ")[1:]
    assert "EnvironmentFile=/etc/app/env\n" in web
    assert "EnvironmentFile=/etc/app/env\n" in worker  # named by the user: every unit reads it
    assert f"# {', '.join(SECRET_NAMES)}: set in /etc/app/env" in web
    assert 'Environment="CACHE_URL=redis://cache:6379/0"\n' in web


def test_systemd_default_environment_file_is_in_the_working_directory():
    output = export("systemd", PROCESSES)
    assert "EnvironmentFile=/srv/app/.env\n" in output.split("# ==> ")[1]


def test_supervisord_takes_secrets_from_its_own_environment():
    output = export("supervisor", PROCESSES)
    assert (
        'environment=LOG_LEVEL="info",CACHE_URL="redis://cache:6379/0",'
        'DJANGO_SECRET_KEY="%(ENV_DJANGO_SECRET_KEY)s",DATABASE_URL="%(ENV_DATABASE_URL)s",'
        'GITHUB_TOKEN="%(ENV_GITHUB_TOKEN)s",STRIPE_KEY="%(ENV_STRIPE_KEY)s"\n'
    ) in output


def test_compose_reads_secrets_from_an_env_file():
    document = yaml.safe_load(export("compose", PROCESSES))
    web = document["services"]["web"]
    assert web["env_file"] == [".env"]
    assert web["environment"] == {"LOG_LEVEL": "info", "CACHE_URL": "redis://cache:6379/0"}
    assert "env_file" not in document["services"]["worker"]


def test_kubernetes_refers_to_a_secret_and_says_how_to_create_it():
    output = export("kubernetes", PROCESSES, "--environment-file=prod.env")
    assert (
        f"# {', '.join(SECRET_NAMES)} come from the Secret app-env: "
        f"kubectl create secret generic app-env --from-env-file=prod.env\n"
    ) in output
    web = next(doc for doc in yaml.safe_load_all(output) if doc and doc["kind"] == "Deployment")
    env = web["spec"]["template"]["spec"]["containers"][0]["env"]
    references = {item["name"]: item["valueFrom"] for item in env if "valueFrom" in item}
    assert references == {
        name: {"secretKeyRef": {"name": "app-env", "key": name}} for name in SECRET_NAMES
    }


def test_procfile_says_where_secrets_are_set():
    output = export("procfile", PROCESSES)
    assert f"# Set {', '.join(SECRET_NAMES)} in the environment of the platform" in output
    assert (
        "web: LOG_LEVEL=info CACHE_URL=redis://cache:6379/0 exec python manage.py prodserver web "
        "--settings=tests.settings\n" in (output)
    )


@pytest.mark.parametrize("format", FORMATS)
def test_files_that_name_secrets_are_written_for_their_owner_alone(format, tmp_path):
    (tmp_path / "out").mkdir()
    for existing in ("Procfile", "app-web.service", "docker-compose.yml"):
        (tmp_path / "out" / existing).write_text("")
        (tmp_path / "out" / existing).chmod(0o644)
    export(format, PROCESSES, f"--output={tmp_path}/out")
    written = list((tmp_path / "out").iterdir())
    assert written
    for path in written:
        if path.stat().st_size:
            assert path.stat().st_mode & 0o777 == 0o600, path


def test_files_without_secrets_keep_the_usual_mode(tmp_path):
    export("procfile", {"worker": {"BACKEND": WORKER}}, f"--output={tmp_path}/out")
    assert (tmp_path / "out" / "Procfile").stat().st_mode & 0o077 != 0
