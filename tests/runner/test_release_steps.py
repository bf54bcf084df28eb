"""`prodserver --release` runs the release steps for real, and `--all` runs them first."""

from __future__ import annotations

import signal
import socket
import time

import pytest

pytestmark = pytest.mark.server
RELEASE = "django_prodserver.backends.release.ReleaseCommand"
MIGRATE = {"BACKEND": RELEASE, "ARGS": ["migrate", "--noinput"]}
# A step that fails with a status of its own.
FAILING = {"BACKEND": RELEASE, "ARGS": ["shell", "-c", "import sys; sys.exit(3)"]}
CACHE = {"BACKEND": RELEASE, "ARGS": ["createcachetable"]}
CACHES = (
    'CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", '
    '"LOCATION": "cache_table"}}'
)


def test_release_runs_migrate_on_sqlite(make_project):
    project = make_project({"migrate": MIGRATE, "cache": CACHE}, CACHES)
    result = project.manage("prodserver", "--release")
    assert result.returncode == 0, result.stderr
    assert "Applying contenttypes.0001_initial... OK" in result.stdout  # migrate's own output
    assert {"django_migrations", "auth_user", "cache_table"} <= project.tables()
    assert result.stderr.splitlines() == [
        "Release step 'migrate': python manage.py migrate --noinput",
        "Release step 'cache': python manage.py createcachetable",
    ]


def test_release_stops_at_the_first_failing_step_with_its_status(make_project):
    project = make_project({"fail": FAILING, "migrate": MIGRATE})
    result = project.manage("prodserver", "--release")
    assert result.returncode == 3, result.stderr
    assert "Release step 'fail' failed (exit status 3): nothing else starts." in result.stderr
    assert "migrate" not in result.stderr.replace("Release step 'fail'", "")
    assert "django_migrations" not in project.tables()


def test_all_with_a_failing_release_step_starts_nothing(make_project, port):
    web = {
        "BACKEND": "django_prodserver.backends.waitress.WaitressServer",
        "ARGS": {"listen": f"127.0.0.1:{port}"},
    }
    project = make_project({"web": web, "fail": FAILING})
    result = project.manage("prodserver", "--all", timeout=120)
    assert result.returncode == 3, result.stderr
    assert "Release step 'fail' failed (exit status 3)" in result.stderr
    assert "waitress" not in (result.stdout + result.stderr).lower()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens


def test_all_runs_the_release_steps_before_the_others(make_project, port, started):
    web = {
        "BACKEND": "django_prodserver.backends.waitress.WaitressServer",
        "ARGS": {"listen": f"127.0.0.1:{port}"},
    }
    project = make_project({"web": web, "migrate": MIGRATE})
    running = project.start("prodserver", "--all")
    started.append(running)
    running.wait_until_serving(f"127.0.0.1:{port}")
    assert "django_migrations" in project.tables()
    output = running.output
    assert output.index("Release step 'migrate'") < output.index("Serving on")
    code, _ = running.stop(timeout=60)
    assert code == 0, running.output
    assert running.wait_for_no_process_left() == []


def test_dry_run_and_list_show_the_release_steps(make_project):
    web = {"BACKEND": "django_prodserver.backends.waitress.WaitressServer"}
    project = make_project({"web": web, "migrate": MIGRATE})
    result = project.manage("prodserver", "--all", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "migrate (release step): python manage.py migrate --noinput",
        # Run together, a web process without an address is given its PORT.
        "web: PORT=5000 waitress-serve --listen=0.0.0.0:5000 exampleproject.wsgi:application",
    ]
    listing = project.manage("prodserver", "--list").stdout
    assert "migrate  release  " in listing
    assert project.manage("prodserver", "--release", "--dry-run").stdout == (
        "python manage.py migrate --noinput\n"
    )


def test_a_step_that_ignores_the_stop_it_is_passed_is_killed_at_its_stop_timeout(
    make_project, started
):
    ignoring = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('step', 'running', flush=True); time.sleep(300)"
    )
    step = {"BACKEND": RELEASE, "ARGS": ["shell", "-c", ignoring], "STOP_TIMEOUT": 1}
    project = make_project({"stubborn": step})
    running = project.start("prodserver", "--release")
    started.append(running)
    deadline = time.monotonic() + 60
    while "step running" not in running.output:
        assert time.monotonic() < deadline, running.output
        time.sleep(0.05)
    code, seconds = running.stop()
    assert code == 128 + signal.SIGTERM, running.output
    assert seconds < 1 + 10, seconds  # its STOP_TIMEOUT, not its 300 s of sleep
    assert "Release step 'stubborn' did not stop within 1 s (STOP_TIMEOUT): killing it." in (
        running.output
    )
    assert "Release step 'stubborn' stopped by SIGTERM." in running.output
    assert running.wait_for_no_process_left() == []
