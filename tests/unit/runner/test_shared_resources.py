import pytest
from django.test import override_settings

from django_prodserver.checks import messages_in_depth
from django_prodserver.loading import load_backend
from django_prodserver.planning import plan_process
from django_prodserver.processes import read_processes
from django_prodserver.shared_resources import shared_listen_addresses, shared_resources

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"
WAITRESS = "django_prodserver.backends.waitress.WaitressServer"


def clashes(**processes):
    with override_settings(PRODUCTION_PROCESSES=processes):
        specs, problems = read_processes()
        assert not problems
        backends = [load_backend(spec) for spec in specs.values()]
        return [clash.message for clash in shared_resources(backends)]


def test_same_address_clashes():
    found = clashes(
        web={"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8000"}},
        admin={"BACKEND": WAITRESS, "ARGS": {"listen": "127.0.0.1:8000"}},
    )
    assert found == [
        "Processes 'web' and 'admin' both use the address 0.0.0.0:8000 (from their ARGS): "
        "run together on one machine, the second one fails to start or takes it over."
    ]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"bind": "unix:/run/app.sock"}, {"bind": ["127.0.0.1:9000", "unix:/run/app.sock"]}),
        ({"pidfile": "/run/app.pid"}, {"pid": "/run/app.pid"}),
    ],
)
def test_same_socket_or_pidfile_clashes(first, second):
    found = clashes(
        web={"BACKEND": GUNICORN, "ARGS": first}, admin={"BACKEND": GUNICORN, "ARGS": second}
    )
    assert len(found) == 1


def test_separate_host_and_port_options_are_read_together():
    same_port = clashes(
        a={"BACKEND": UVICORN, "ARGS": {"port": 8000}},
        b={"BACKEND": UVICORN, "ARGS": {"port": 8000}},
    )
    assert same_port == [
        "Processes 'a' and 'b' both use the address (default host):8000 (from their ARGS): "
        "run together on one machine, the second one fails to start or takes it over."
    ]
    assert not clashes(
        a={"BACKEND": UVICORN, "ARGS": {"host": "127.0.0.1", "port": 8000}},
        b={"BACKEND": UVICORN, "ARGS": {"host": "10.0.0.1", "port": 8000}},
    )


def test_different_addresses_and_unknown_ones_do_not_clash():
    assert not clashes(
        web={"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8000"}},
        admin={"BACKEND": GUNICORN, "ARGS": {"bind": "127.0.0.1:8001"}},
        default={"BACKEND": GUNICORN},
        other={"BACKEND": GUNICORN},
    )


def listening_clashes(**processes):
    with override_settings(PRODUCTION_PROCESSES=processes):
        specs, problems = read_processes()
        assert not problems
        # As the checks would report it, a process that cannot be planned is left out here.
        planned = [plan_process(spec, env=spec.env) for spec in specs.values()]
        ready = [process.ready() for process in planned if process.error is None]
        return [clash.message for clash in shared_listen_addresses(ready)]


def test_run_together_the_servers_defaults_clash_too(monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    found = listening_clashes(
        web={"BACKEND": GUNICORN},
        api={"BACKEND": UVICORN, "ARGS": {"port": 8000}},
        admin={"BACKEND": WAITRESS},
        tasks={"BACKEND": "django_prodserver.backends.django_tasks.DjangoTasksWorker"},
    )
    assert found == [
        "Processes 'web' and 'api' both use the address 127.0.0.1:8000 (from ARGS, $PORT or "
        "the server's default): run together on one machine, the second one fails to start "
        "or takes it over."
    ]


def test_run_together_port_is_the_same_for_every_process(monkeypatch):
    monkeypatch.setenv("PORT", "5000")
    found = listening_clashes(
        web={"BACKEND": GUNICORN}, admin={"BACKEND": GUNICORN, "ARGS": {"workers": 2}}
    )
    assert found == [
        "Processes 'web' and 'admin' both use the address 0.0.0.0:5000 (from ARGS, $PORT or "
        "the server's default): run together on one machine, the second one fails to start "
        "or takes it over."
    ]


def test_run_together_addresses_of_their_own_do_not_clash(monkeypatch):
    monkeypatch.setenv("PORT", "5000")
    assert not listening_clashes(
        web={"BACKEND": GUNICORN},
        admin={"BACKEND": GUNICORN, "ARGS": {"bind": "127.0.0.1:8001"}},
        socket={"BACKEND": GUNICORN, "ARGS": {"bind": "unix:/run/app.sock"}},
    )


def test_the_system_check_warns():
    processes = {
        "web": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8000"}},
        "admin": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8000"}},
    }
    with override_settings(PRODUCTION_PROCESSES=processes):
        found = [message.id for message in messages_in_depth()]
    assert found == ["prodserver.W001"]
