"""port_per_process.py, `--port` typed with several processes, and devserver's ports."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_prodserver.development.devserver import chosen_processes
from django_prodserver.errors import ProdserverError
from django_prodserver.invocation import runner_port
from django_prodserver.loading import load_backend
from django_prodserver.port_per_process import assigned_ports, base_port, ports_note
from django_prodserver.processes import read_configuration

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"
WAITRESS = "django_prodserver.backends.waitress.WaitressServer"
RUNSERVER = "django_prodserver.backends.dev.django_runserver.DjangoRunserver"
TASKS = "django_prodserver.backends.django_tasks.DjangoTasksWorker"


def ports(processes: dict[str, dict[str, object]], base: int = 5000) -> dict[str, int]:
    with override_settings(PRODUCTION_PROCESSES=processes):
        specs = read_configuration().every()
        return assigned_ports([(spec, load_backend(spec)) for spec in specs], base)


def test_web_processes_without_an_address_count_up_in_hundreds_and_workers_get_none():
    assert ports(
        {
            "web": {"BACKEND": GUNICORN},
            "tasks": {"BACKEND": TASKS},
            "api": {"BACKEND": UVICORN},
            "admin": {"BACKEND": WAITRESS, "ARGS": {"listen": "127.0.0.1:9000"}},
            "other": {"BACKEND": WAITRESS, "ENV": {"PORT": "9100"}},
            "dev": {"BACKEND": RUNSERVER},
            "last": {"BACKEND": WAITRESS},
        },
        base=6000,
    ) == {"web": 6000, "api": 6100, "last": 6500}


def test_the_base_is_the_option_then_port_then_5000():
    assert base_port(7000, {"PORT": "8000"}) == 7000
    assert base_port(None, {"PORT": "8000"}) == 8000
    assert base_port(None, {}) == 5000
    assert base_port(None, {"PORT": " "}, default=8000) == 8000


@pytest.mark.parametrize(
    ("given", "environ", "message"),
    [
        (None, {"PORT": "http"}, "$PORT is 'http': the runner counts each web process's port"),
        (None, {"PORT": "99999"}, "$PORT is 99999: a port is a number from 1 to 65535."),
        (0, {}, "--port is 0: a port is a number from 1 to 65535."),
    ],
)
def test_a_base_that_is_no_port_is_an_error(given, environ, message):
    with pytest.raises(ProdserverError) as error:
        base_port(given, environ)
    assert str(error.value).startswith(message)


def test_a_port_beyond_the_last_is_an_error():
    with pytest.raises(ProdserverError, match=r"'api' would be given port 65600 \(65500 \+ 100"):
        ports({"web": {"BACKEND": GUNICORN}, "api": {"BACKEND": GUNICORN}}, base=65500)


def test_the_runner_says_which_process_got_which_port():
    notes = ports_note({"web": 5000, "api": 5100})
    assert notes == [
        "PORT given to each web process without an address of its own: web 5000, api 5100."
    ]
    # No NAME=value: masking it would load Django into the runner.
    assert "=" not in notes[0]
    assert ports_note({}) == []


def test_port_typed_with_several_processes_is_the_runners():
    assert runner_port(["--port", "7000"], together=True) == (7000, [])
    assert runner_port(["--port=7000", "-w", "2"], together=True) == (7000, ["-w", "2"])
    # With one process, --port is the server's own option, as any typed after the name.
    assert runner_port(["--port=7000"], together=False) == (None, ["--port=7000"])
    with pytest.raises(ProdserverError, match=r"--port 'x1': the base of the web processes"):
        runner_port(["--port", "x1"], together=True)


def test_devserver_gives_each_replaced_server_a_port_when_run_together(monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    processes = {
        "web": {"BACKEND": GUNICORN},
        "api": {"BACKEND": UVICORN},
        "admin": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:9000"}},
    }
    with override_settings(PRODUCTION_PROCESSES=processes):
        together, _ = chosen_processes(read_configuration(), [])
        alone, _ = chosen_processes(read_configuration(), ["web"])
        given, _ = chosen_processes(read_configuration(), ["web"], port=8500)
    assert [process.spec.args for process in together] == [
        {"addrport": "127.0.0.1:8000"},
        {"host": "127.0.0.1", "port": 8100, "reload": True},
        {"addrport": "127.0.0.1:9000"},
    ]
    assert alone[0].spec.args == {"addrport": "127.0.0.1:8000"}  # as before
    assert given[0].spec.args == {"addrport": "127.0.0.1:8500"}


def test_a_gunicorn_that_may_read_its_bind_from_a_config_file_keeps_it(tmp_path, monkeypatch):
    processes: dict[str, dict[str, object]] = {
        "web": {"BACKEND": GUNICORN, "ARGS": {"config": "python:myproject.gunicorn_conf"}},
        "api": {"BACKEND": GUNICORN},
    }
    assert ports(processes) == {"api": 5100}
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--bind=127.0.0.1:7000")
    assert ports({"api": {"BACKEND": GUNICORN}}) == {}
    monkeypatch.delenv("GUNICORN_CMD_ARGS")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gunicorn.conf.py").write_text("bind = '127.0.0.1:7000'\n")
    assert ports({"api": {"BACKEND": GUNICORN}, "other": {"BACKEND": UVICORN}}) == {"other": 5100}
