"""`manage.py prodserver` as a user runs it: errors, --list, --dry-run, overrides, aliases."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from tests.support import get, run_whole

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
WEB = {"BACKEND": GUNICORN, "ARGS": {"bind": "127.0.0.1:8000", "workers": "2"}}


def assert_clear_error(result, *words):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr


# Errors: a message that names the process and the fix, a non-zero exit, no traceback.


def test_unknown_process_lists_the_configured_names(make_project):
    project = make_project({"web": WEB, "worker": WEB})
    assert_clear_error(
        project.manage("prodserver", "wbe"),
        "Unknown process 'wbe' (did you mean 'web'?)",
        "Configured processes: web, worker",
    )


def test_missing_backend(make_project):
    result = make_project({"web": {"ARGS": {}}}).manage("prodserver", "web")
    assert_clear_error(result, "prodserver.E003", "Process 'web': BACKEND is missing")


def test_missing_backend_is_reported_even_without_checks(make_project):
    result = make_project({"web": {"ARGS": {}}}).manage("prodserver", "web", "--skip-checks")
    assert_clear_error(result, "Process 'web': BACKEND is missing")


def test_backend_that_does_not_import(make_project):
    project = make_project({"web": {"BACKEND": "django_prodserver.backends.gunicron.Server"}})
    assert_clear_error(
        project.manage("prodserver", "web", "--skip-checks"),
        "there is no module 'django_prodserver.backends.gunicron'",
        "did you mean 'django_prodserver.backends.gunicorn'",
    )


def test_missing_server_package_gives_the_pip_line(make_project):
    result = make_project({"web": WEB}).manage_without("gunicorn", "prodserver", "web")
    assert_clear_error(result, "pip install 'django-prodserver[gunicorn]'", "Process 'web'")


def test_a_missing_package_is_a_warning_for_other_commands(make_project):
    """Django checks before `migrate` and `runserver` too, often on a machine that never
    runs the process (gunicorn only in production's requirements): they must go on."""
    project = make_project({"web": WEB})
    warning = (
        "?: (prodserver.W002) Process 'web' needs gunicorn, which is not installed.\n"
        "Install it with: pip install 'django-prodserver[gunicorn]'\n"
        "\tHINT: Only `prodserver web` needs it: other commands go on without it."
    )

    check = project.manage_without("gunicorn", "check")
    migrate = project.manage_without("gunicorn", "migrate", "--verbosity=1")
    start = project.manage_without("gunicorn", "prodserver", "web")

    assert check.returncode == 0, check.stderr
    assert warning in check.stderr
    assert migrate.returncode == 0, migrate.stderr
    assert "Apply all migrations" in migrate.stdout
    assert_clear_error(start, "(prodserver.E007) Process 'web' needs gunicorn")
    assert "W002" not in start.stderr


# Runs manage.py (argv[1]) with the rest of argv, then says whether gunicorn was imported.
REPORT_GUNICORN_IMPORTED = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: print('gunicorn imported:', 'gunicorn' in sys.modules))\n"
    "sys.argv = sys.argv[1:] + ['--verbosity=0']\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def test_options_are_validated_by_check_and_prodserver_not_before_every_command(make_project):
    """Validating options imports the servers; migrate and runserver check the shape."""
    project = make_project({"web": {"BACKEND": GUNICORN, "ARGS": {"wrokers": 2}}})
    unknown = "(prodserver.E008) Process 'web': gunicorn has no option `wrokers`"

    check = project.manage("check")
    start = project.manage("prodserver", "web")
    migrate = run_whole(
        [sys.executable, "-c", REPORT_GUNICORN_IMPORTED, str(project.manage_py), "migrate"],
        project.directory,
        project.env(),
        60,
    )
    shapeless = make_project({"web": {"ARGS": {}}}).manage("migrate", "--verbosity=0")

    assert check.returncode == 1
    assert unknown in check.stderr
    assert start.returncode == 1
    assert unknown in start.stderr
    assert migrate.returncode == 0, migrate.stderr
    assert "prodserver" not in migrate.stderr
    assert migrate.stdout == "gunicorn imported: False\n"
    assert_clear_error(shapeless, "(prodserver.E003) Process 'web': BACKEND is missing")


def test_missing_worker_package_gives_the_pip_line(make_project):
    project = make_project({"web": {"BACKEND": GUNICORN, "ARGS": {"worker-class": "gevent"}}})
    result = project.manage_without("gevent", "prodserver", "web")
    assert_clear_error(
        result, "needs the package 'gevent'", "pip install 'django-prodserver[gevent]'"
    )


def test_eventlet_worker_class(make_project):
    project = make_project({"web": {"BACKEND": GUNICORN, "ARGS": {"worker-class": "eventlet"}}})
    assert_clear_error(project.manage("prodserver", "web"), "eventlet", "pip install")


def test_unknown_option_suggests_the_nearest_names(make_project):
    project = make_project({"web": {"BACKEND": GUNICORN, "ARGS": {"keep_alive_secs": 5}}})
    assert_clear_error(
        project.manage("prodserver", "web"),
        "gunicorn has no option `keep_alive_secs`",
        "keep-alive",
    )


def test_invalid_value(make_project):
    project = make_project({"web": {"BACKEND": GUNICORN, "ARGS": {"workers": "lots"}}})
    assert_clear_error(project.manage("prodserver", "web"), "Process 'web'", "'lots'")


def test_invalid_override(make_project):
    project = make_project({"web": WEB})
    assert_clear_error(project.manage("prodserver", "web", "--timeout=-1"), "`timeout`")


def test_production_processes_not_a_mapping(make_project):
    result = make_project('["web"]').manage("prodserver", "web")
    assert_clear_error(result, "prodserver.E001", "PRODUCTION_PROCESSES must be a dict")


def test_traceback_only_when_asked(make_project):
    project = make_project({"web": WEB})
    assert "Traceback" in project.manage("prodserver", "nope", "--traceback").stderr


def test_an_application_that_fails_to_import(make_project):
    project = make_project({"web": {"BACKEND": GUNICORN, "ARGS": {"wsgi_app": "missing.wsgi:app"}}})
    assert_clear_error(
        project.manage("prodserver", "web"), "The application 'missing.wsgi:app' failed to load"
    )


# Checks


def test_check_reports_every_broken_process(make_project):
    project = make_project(
        {"web": {"BACKEND": GUNICORN, "ARGS": {"workerz": 2}}, "other": {"BACKEND": "x.Y"}}
    )
    result = project.manage("check")
    assert result.returncode != 0
    assert "prodserver.E008" in result.stderr
    assert "`workers`" in result.stderr
    assert "prodserver.E004" in result.stderr


def test_a_start_checks_only_the_processes_it_starts(make_project):
    project = make_project({"web": WEB, "other": {"BACKEND": "x.Y"}})
    assert project.manage("prodserver", "web", "--dry-run").returncode == 0
    assert_clear_error(project.manage("prodserver", "other", "--dry-run"), "prodserver.E004")
    assert_clear_error(project.manage("prodserver", "--all", "--dry-run"), "prodserver.E004")
    assert_clear_error(project.manage("check"), "prodserver.E004")


def test_check_passes_a_good_configuration(make_project):
    assert make_project({"web": WEB}).manage("check").returncode == 0


# Names, --list, --dry-run


def test_list(make_project):
    result = make_project({"web": WEB}).manage("prodserver", "--list")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "NAME  KIND  BACKEND                                             COMMAND",
        f"web   web   {GUNICORN}  "
        "gunicorn --bind=127.0.0.1:8000 --workers=2 exampleproject.wsgi:application",
    ]


def test_list_with_names_lists_only_those(make_project):
    project = make_project({"web": WEB, "admin": WEB, "broken": {"ARGS": {}}})

    result = project.manage("prodserver", "--list", "broken", "web")
    unknown = project.manage("prodserver", "--list", "wbe")

    assert [line.split()[0] for line in result.stdout.splitlines()] == ["NAME", "web", "broken"]
    assert "error: Process 'broken': BACKEND is missing" in result.stdout
    assert_clear_error(unknown, "Unknown process 'wbe' (did you mean 'web'?)")


def test_no_name_starts_the_only_process(make_project):
    result = make_project({"web": WEB}).manage("prodserver", "--dry-run")
    assert result.stdout.startswith("gunicorn --bind=127.0.0.1:8000")


def test_no_name_with_several_processes_starts_the_first(make_project):
    web2 = {**WEB, "ARGS": {"bind": "127.0.0.1:8001"}}
    result = make_project({"web": WEB, "web2": web2}).manage("prodserver", "--dry-run")
    assert result.stdout.startswith("gunicorn --bind=127.0.0.1:8000")
    assert "starting 'web', the first configured (of web, web2)" in result.stderr


def test_overrides_replace_the_configured_value(make_project):
    project = make_project({"web": WEB})
    assert project.manage("prodserver", "web", "--workers=8", "--dry-run").stdout == (
        "gunicorn --bind=127.0.0.1:8000 --workers=8 exampleproject.wsgi:application\n"
    )
    assert project.manage("prodserver", "web", "--dry-run", "--", "-w", "3").stdout == (
        "gunicorn --bind=127.0.0.1:8000 --workers=3 exampleproject.wsgi:application\n"
    )


def test_dry_run_names_the_settings_module_given_with_settings(make_project):
    project = make_project({"web": WEB})
    result = project.manage("prodserver", "web", "--dry-run", "--settings=test_settings")
    assert result.stdout.startswith("DJANGO_SETTINGS_MODULE=test_settings gunicorn ")


def test_dry_run_masks_secrets(make_project):
    project = make_project({"web": {"BACKEND": GUNICORN, "ARGS": {"env": ["API_TOKEN=s3cret"]}}})
    result = project.manage("prodserver", "web", "--dry-run")
    assert "s3cret" not in result.stdout
    assert "--env=API_TOKEN=********" in result.stdout


def config_lines(output):
    ignored = {"default_proc_name", "proc_name", "config"}
    return {
        name: value
        for name, value in re.findall(r"^(\w+)\s+= (.*)$", output, flags=re.MULTILINE)
        if name not in ignored and "<" not in value  # hooks print as object reprs
    }


@pytest.mark.server
def test_the_dry_run_line_run_by_hand_gives_the_same_server(make_project, port, started):
    args = {
        "bind": f"127.0.0.1:{port}",
        "workers": 3,
        "keepalive": 5,
        "accesslog": "-",
        "max-requests": 100,
        "reload": False,
        "sendfile": False,
        "worker-class": "gthread",
    }
    project = make_project({"web": {"BACKEND": GUNICORN, "ARGS": args}})
    line = project.manage("prodserver", "web", "--dry-run").stdout.strip()
    by_hand = shlex.split(line)
    assert by_hand[0] == "gunicorn"
    gunicorn = [sys.executable, "-m", "gunicorn", *by_hand[1:]]

    ours = project.manage("prodserver", "web", "--print-config").stdout
    theirs = subprocess.run(
        [*gunicorn, "--print-config"],
        cwd=project.directory,
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert config_lines(ours) == config_lines(theirs)
    assert config_lines(ours)["keepalive"] == "5"

    by_hand_server = subprocess.Popen(
        gunicorn,
        cwd=project.directory,
        env=project.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from tests.support import Running

        Running(by_hand_server, project.directory / "none").wait_until_serving(f"127.0.0.1:{port}")
        assert get(f"127.0.0.1:{port}")[0] == 200
    finally:
        by_hand_server.terminate()
        by_hand_server.wait(30)


# Aliases and devserver


def test_the_other_implementations_server_command(make_project):
    result = make_project({"web": WEB}).manage("server", "web", "--dry-run")
    assert result.stdout.startswith("gunicorn --bind=127.0.0.1:8000")


def test_legacy_backend_paths(make_project):
    project = make_project(
        {"web": {"BACKEND": "django_prodserver.backends.servers.gunicorn.GunicornServer"}}
    )
    assert project.manage("prodserver", "web", "--dry-run").returncode == 0


@pytest.mark.server
def test_devserver_is_runserver(make_project, port, started):
    server = make_project({"web": WEB}).start("devserver", "--noreload", f"127.0.0.1:{port}")
    started.append(server)
    server.wait_until_serving(f"127.0.0.1:{port}")
    assert "development server" in server.output.lower()
