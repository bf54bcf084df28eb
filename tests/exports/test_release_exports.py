"""The engines run the release steps first, and the settings module the export was made with.

The example project with a release step (migrate) and a db_worker, whose tables only the
release step creates. Every engine here runs without DJANGO_SETTINGS_MODULE in its
environment: manage.py's default (exampleproject.settings) would listen elsewhere and
use another database, so a process that answers on the test's port ran the exported one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.exports.supervisord import start_supervisord, wait_for_status
from tests.exports.test_compose_schema import SCHEMA
from tests.exports.test_kubernetes_validate import validate
from tests.exports.test_systemd_analyze import verify
from tests.support import EXAMPLE, Project, export_files, start_command

pytestmark = pytest.mark.server
HONCHO = Path(sys.executable).parent / "honcho"
RELEASE = "django_prodserver.backends.release.ReleaseCommand"
TASKS_TABLE = "django_tasks_database_dbtaskresult"


def processes(port: int) -> dict[str, object]:
    return {
        "migrate": {"BACKEND": RELEASE, "ARGS": ["migrate", "--noinput"]},
        "web": {
            "BACKEND": "django_prodserver.backends.gunicorn.GunicornServer",
            "ARGS": {"bind": f"127.0.0.1:{port}", "workers": 1},
        },
        "tasks": {
            "BACKEND": "django_prodserver.backends.django_tasks.DjangoTasksWorker",
            "ARGS": {"interval": 0.5},
        },
    }


def engine_environment(project: Project) -> dict[str, str]:
    """The project's environment without DJANGO_SETTINGS_MODULE: the files must carry it."""
    env = project.env()
    del env["DJANGO_SETTINGS_MODULE"]
    return env


def test_honcho_runs_the_processes_after_the_release_line(make_project, port, started, tmp_path):
    from honcho.environ import parse_procfile

    project = make_project(processes(port))
    [procfile] = export_files(project, "procfile", tmp_path / "out", f"--python={sys.executable}")
    lines = parse_procfile(procfile.read_text()).processes
    assert list(lines) == ["release", "web", "tasks"]
    assert lines["release"] == (
        f"exec {sys.executable} manage.py prodserver --release migrate --settings=test_settings"
    )
    # honcho does not know the release phase: run the line by itself, as a platform does.
    release = subprocess.run(
        ["/bin/sh", "-c", lines["release"]],
        cwd=EXAMPLE,
        env=engine_environment(project),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert release.returncode == 0, release.stderr
    assert TASKS_TABLE in project.tables()
    # From where manage.py is, as a Procfile expects.
    honcho = start_command(
        [str(HONCHO), "start", "-f", str(procfile), "--no-prefix", "web", "tasks"],
        EXAMPLE,
        engine_environment(project),
        tmp_path / "honcho.log",
    )
    started.append(honcho)
    honcho.wait_until_serving(f"127.0.0.1:{port}")
    # db_worker refuses to start without its tables: still running, the release created them.
    time.sleep(3)
    assert "tasks.1 stopped" not in honcho.output, honcho.output
    code, _ = honcho.stop(timeout=60)
    assert code == 143, honcho.output
    assert "web.1 stopped (rc=0)" in honcho.output
    assert honcho.wait_for_no_process_left() == []


def test_supervisord_runs_the_release_program_to_its_end(make_project, port, started, tmp_path):
    project = make_project(processes(port))
    [programs] = export_files(project, "supervisor", tmp_path / "conf.d", "--project=shop")
    text = programs.read_text()
    assert "[program:shop-migrate]\n" in text
    assert "priority=100\n" in text
    supervisord, config = start_supervisord(tmp_path, engine_environment(project))
    started.append(supervisord)
    supervisord.wait_until_serving(f"127.0.0.1:{port}")
    status = wait_for_status(config, "EXITED")
    # Exited with status 0, as expected (exitcodes=0), and not restarted (autorestart=false).
    assert "shop:shop-migrate                EXITED" in status, status
    assert TASKS_TABLE in project.tables()
    status = wait_for_status(config, "RUNNING", program="shop:shop-tasks")
    assert "shop:shop-tasks                  RUNNING" in status, status
    code, _ = supervisord.stop(timeout=60)
    assert code == 0, supervisord.output
    assert supervisord.wait_for_no_process_left() == []
    assert "spawnerr" not in supervisord.output
    assert (
        "exited: shop-migrate (exit status 0; expected)"
        in (tmp_path / "supervisord.log").read_text()
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_accepts_the_release_unit_and_its_ordering(make_project, port, tmp_path):
    project = make_project(processes(port))
    units = export_files(project, "systemd", tmp_path / "units")
    names = [unit.name for unit in units]
    assert names == [
        "example-migrate.service",
        "example-web.service",
        "example-tasks.service",
        "example.target",
    ]
    release, web, tasks, _ = (unit.read_text() for unit in units)
    assert "Type=oneshot\nRemainAfterExit=yes\n" in release
    for unit in (web, tasks):
        assert "Requires=example-migrate.service\nAfter=example-migrate.service\n" in unit
        assert "--settings=test_settings\n" in unit
    result = verify(units)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""

    # The check can fail: a oneshot unit cannot be restarted always.
    units[0].write_text(
        release.replace("RemainAfterExit=yes", "RemainAfterExit=yes\nRestart=always")
    )
    result = verify(units)
    assert result.returncode != 0
    assert "Restart=" in result.stderr


def compose_errors(document: object) -> list[str]:
    validator = jsonschema.Draft201909Validator(SCHEMA)
    return [error.message for error in validator.iter_errors(document)]


def test_the_compose_services_wait_for_the_release_service(make_project, port, tmp_path):
    project = make_project(processes(port))
    [compose] = export_files(
        project,
        "compose",
        tmp_path,
        "--working-directory=/app",
        "--dockerfile=docker/production/Dockerfile",
        "--context=..",
        "--environment-file=.env",
        "--environment-file=.env.production",
    )
    document = yaml.safe_load(compose.read_text())
    services = document["services"]
    assert list(services) == ["migrate", "web", "tasks"]
    assert services["migrate"]["restart"] == "no"
    assert "depends_on" not in services["migrate"]
    for name in ("web", "tasks"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
        assert services[name]["env_file"] == [".env", ".env.production"]
        assert services[name]["command"][-1] == "--settings=test_settings"
        assert services[name]["build"] == {
            "context": "..",
            "dockerfile": "docker/production/Dockerfile",
        }
    assert compose_errors(document) == []

    # The check can fail: a condition Compose does not have is reported.
    services["web"]["depends_on"]["migrate"]["condition"] = "service_succeeded"
    assert compose_errors(document) != []


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="no docker-compose")
def test_docker_compose_config_accepts_the_file(make_project, port, tmp_path):
    project = make_project(processes(port))
    [compose] = export_files(project, "compose", tmp_path, "--working-directory=/app")
    result = subprocess.run(
        ["docker-compose", "-f", str(compose), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COMPOSE_PROJECT_NAME": "test"},
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
def test_kubernetes_validate_accepts_the_release_job(make_project, port, tmp_path, version):
    definitions = processes(port)
    definitions["cache"] = {"BACKEND": RELEASE, "ARGS": ["createcachetable"]}
    project = make_project(definitions)
    [manifest] = export_files(project, "kubernetes", tmp_path, "--image=app:1")
    documents = [doc for doc in yaml.safe_load_all(manifest.read_text()) if doc]
    job = documents[0]
    assert job["kind"] == "Job"
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    # In the order of the setting: migrate, then createcachetable.
    assert [c["command"][3] for c in pod["initContainers"] + pod["containers"]] == [
        "migrate",
        "cache",
    ]
    assert [doc["kind"] for doc in documents[1:]] == ["Deployment", "Service", "Deployment"]
    result = validate(manifest, version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed for resource " in result.stdout

    # The check can fail: a field a Job does not have is reported.
    manifest.write_text(manifest.read_text().replace("backoffLimit:", "backoffLimits:"))
    assert validate(manifest, version).returncode != 0


def test_the_settings_module_is_written_into_every_process(make_project, port, tmp_path):
    project = make_project(processes(port))
    for format in ("supervisor", "compose", "kubernetes"):
        [exported] = export_files(project, format, tmp_path / format)
        text = exported.read_text()
        # Each process's command, and the probes that run manage.py, name the settings.
        lines = [line for line in text.splitlines() if not line.startswith("#")]
        commands = [line for line in lines if "manage.py" in line and "prodserver" in line]
        assert len(commands) >= 3, text
        assert all("--settings=test_settings" in line for line in commands), text
