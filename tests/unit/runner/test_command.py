import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_prodserver.environment import missing_variables
from django_prodserver.invocation import DjangoOptions
from django_prodserver.lifecycle.replacing import this_command_prefix
from django_prodserver.processes import ProcessSpec
from django_prodserver.runner.together import child_command, child_environment


def test_child_runs_prodserver_name_like_the_runner(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["manage.py", "prodserver", "--all", "--no-color"])
    monkeypatch.setattr(
        sys, "orig_argv", ["python3", "-X", "dev", "manage.py", "prodserver", "--all", "--no-color"]
    )
    options = {"settings": "site.prod", "verbosity": 2, "no_color": True, "traceback": False}
    assert child_command("web", DjangoOptions.from_options(options)) == [
        sys.executable,
        "-X",
        "dev",
        "manage.py",
        "prodserver",
        "web",
        "--skip-checks",
        "--settings=site.prod",
        "--verbosity=2",
        "--no-color",
    ]


def test_python_m_django_is_kept(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/x/django/__main__.py", "prodserver", "a", "b"])
    monkeypatch.setattr(sys, "orig_argv", ["python", "-m", "django", "prodserver", "a", "b"])
    assert this_command_prefix() == [sys.executable, "-m", "django"]


def test_child_environment_has_env_on_top_and_unbuffered_output(monkeypatch):
    monkeypatch.setenv("GREETING", "from the runner")
    monkeypatch.setenv("DJANGO_PRODSERVER_ENV_APPLIED", "web")
    spec = ProcessSpec("web", "x", env={"GREETING": "hello"})
    env = child_environment(spec, {"XDG_RUNTIME_DIR": "/run/x"})
    assert env["GREETING"] == "hello"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["XDG_RUNTIME_DIR"] == "/run/x"
    assert "DJANGO_PRODSERVER_ENV_APPLIED" not in env


def test_only_variables_that_differ_are_missing():
    spec = ProcessSpec("web", "x", env={"A": "1", "B": "2"})
    assert missing_variables(spec, {"A": "1", "B": "3"}) == {"B": "2"}


def test_the_supervisor_reads_the_children_and_inherits_the_environment(monkeypatch, tmp_path):
    import os
    import signal

    from django_prodserver.runner.child import Child
    from django_prodserver.runner.supervise import handoff_document, read_handoff

    monkeypatch.setenv("INHERITED", "yes")
    monkeypatch.setenv("DJANGO_PRODSERVER_ENV_APPLIED", "web")
    handoff = tmp_path / "children.json"
    sent = ProcessSpec("web", "x", restart="always", stop_signal="SIGQUIT", stop_timeout=5)
    argv = ("python", "manage.py", "prodserver", "web")
    child = Child(sent, argv, {**os.environ, "GREETING": "hello"})
    handoff.write_bytes(handoff_document([child], True, os.environ))
    [read], colour, _, _ = read_handoff(os.open(handoff, os.O_RDONLY))
    spec = read.spec
    assert colour
    assert read.argv == ("python", "manage.py", "prodserver", "web")
    assert read.env["GREETING"] == "hello"
    assert read.env["INHERITED"] == "yes"
    assert "DJANGO_PRODSERVER_ENV_APPLIED" not in read.env
    assert (spec.restart, spec.stop_signal_number, spec.stop_timeout) == (
        "always",
        signal.SIGQUIT,
        5.0,
    )
    assert spec == sent


def test_two_servers_on_one_default_address_are_refused_before_anything_starts(monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    runserver = {"BACKEND": "django_prodserver.backends.dev.django_runserver.DjangoRunserver"}
    with (
        override_settings(PRODUCTION_PROCESSES={"web": runserver, "admin": runserver}),
        pytest.raises(CommandError) as error,
    ):
        call_command("prodserver", "web", "admin", "--dry-run")
    assert str(error.value) == (
        "Processes 'web' and 'admin' both use the address 127.0.0.1:8000 (from ARGS, $PORT or "
        "the server's default): run together on one machine, the second one fails to start or "
        "takes it over.\nHint: Give each process its own pidfile and address in ARGS."
    )


def test_two_servers_without_an_address_are_given_a_port_each(monkeypatch, capsys):
    monkeypatch.delenv("PORT", raising=False)
    gunicorn = {"BACKEND": "django_prodserver.backends.gunicorn.GunicornServer"}
    with override_settings(PRODUCTION_PROCESSES={"web": gunicorn, "admin": gunicorn}):
        call_command("prodserver", "web", "admin", "--dry-run")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == ["web", "admin"]
    assert "PORT=5000 gunicorn --bind=0.0.0.0:5000 " in lines[0]
    assert "PORT=5100 gunicorn --bind=0.0.0.0:5100 " in lines[1]


def test_a_given_port_that_another_process_is_configured_with_is_refused(monkeypatch, capsys):
    monkeypatch.setenv("PORT", "7000")
    gunicorn = "django_prodserver.backends.gunicorn.GunicornServer"
    processes = {
        "web": {"BACKEND": gunicorn},
        "admin": {"BACKEND": gunicorn, "ARGS": {"bind": "127.0.0.1:7100"}},
        "api": {"BACKEND": gunicorn},
    }
    with override_settings(PRODUCTION_PROCESSES=processes):
        call_command("prodserver", "web", "admin", "api", "--dry-run")
    # admin keeps its address, and its place in the count: api, the third, is given 7200.
    out = capsys.readouterr().out
    assert "--bind=0.0.0.0:7000 " in out
    assert "--bind=0.0.0.0:7200 " in out
    monkeypatch.setenv("PORT", "6900")
    with override_settings(PRODUCTION_PROCESSES=processes), pytest.raises(CommandError) as error:
        call_command("prodserver", "web", "admin", "api", "--dry-run")
    assert str(error.value).startswith(
        "Processes 'admin' and 'api' both use the address 127.0.0.1:7100 "
    ), error.value
