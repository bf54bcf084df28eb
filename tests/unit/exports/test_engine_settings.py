"""The engines' settings follow from each process: stop timeouts, replicas, addresses."""

from __future__ import annotations

import re

import pytest
import yaml

from django_prodserver.backends.base import Address, Plan
from django_prodserver.loading import load_backend
from django_prodserver.processes import ProcessSpec
from tests.unit.exports.support import (
    DAPHNE,
    GRANIAN,
    GUNICORN,
    HYPERCORN,
    RUNS_ONCE,
    UVICORN,
    WAITRESS,
    WORKER,
    export,
)


def found(pattern, text):
    """The first group of `pattern` where it first matches `text`."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} is not in:\n{text}"
    return match[1]


def stop_timeouts(definition):
    """The stop timeout each engine was given for one process."""
    processes = {"web": definition}
    return {
        "systemd": found(r"TimeoutStopSec=(\d+)", export("systemd", processes)),
        "supervisor": found(r"stopwaitsecs=(\d+)", export("supervisor", processes)),
        "compose": found(r'stop_grace_period: "(\d+)s"', export("compose", processes)),
        "kubernetes": found(
            r"terminationGracePeriodSeconds: (\d+)", export("kubernetes", processes)
        ),
    }


@pytest.mark.parametrize(
    ("definition", "seconds"),
    [
        # gunicorn's graceful timeout (30 by default) plus 5 s to exit
        ({"BACKEND": GUNICORN}, "35"),
        ({"BACKEND": GUNICORN, "ARGS": {"graceful-timeout": 60}}, "65"),
        ({"BACKEND": GUNICORN, "ARGS": {"graceful_timeout": 60}, "STOP_TIMEOUT": 90}, "90"),
        # prodserver's own drain of waitress (10 s) is within STOP_TIMEOUT (30 by default)
        ({"BACKEND": WAITRESS}, "30"),
        ({"BACKEND": WAITRESS, "STOP_TIMEOUT": 12}, "15"),
        # hypercorn's graceful timeout is 3 s: STOP_TIMEOUT (30 by default) is longer
        ({"BACKEND": HYPERCORN}, "30"),
        ({"BACKEND": HYPERCORN, "ARGS": {"graceful-timeout": 40}}, "45"),
        # uvicorn waits for every request unless told a bound: STOP_TIMEOUT applies
        ({"BACKEND": UVICORN}, "30"),
        ({"BACKEND": UVICORN, "ARGS": {"timeout-graceful-shutdown": 50}}, "55"),
        ({"BACKEND": GRANIAN, "ARGS": {"workers-kill-timeout": 20}}, "30"),
        ({"BACKEND": GRANIAN, "ARGS": {"workers-kill-timeout": 29}}, "34"),
        ({"BACKEND": WORKER, "STOP_TIMEOUT": 12.2}, "13"),
    ],
)
def test_stop_timeout_covers_the_servers_graceful_timeout(definition, seconds):
    assert set(stop_timeouts(definition).values()) == {seconds}


def test_stop_signal_and_restart_reach_every_engine():
    processes = {"web": {"BACKEND": WORKER, "STOP_SIGNAL": "INT", "RESTART": "never"}}
    assert "KillSignal=SIGINT\n" in export("systemd", processes)
    assert "Restart=no\n" in export("systemd", processes)
    supervisor = export("supervisor", processes)
    assert "stopsignal=INT\n" in supervisor
    assert "autorestart=false\n" in supervisor
    compose = yaml.safe_load(export("compose", processes))["services"]["web"]
    assert (compose["stop_signal"], compose["restart"]) == ("SIGINT", "no")
    kubernetes = export("kubernetes", processes)
    assert "the Dockerfile needs STOPSIGNAL SIGINT" in kubernetes
    assert "# web stops on SIGINT, but the platform sends SIGTERM." in export("procfile", processes)


def test_replicas(capsys):
    processes = {
        "web": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8000"}},
        "worker": {"BACKEND": WORKER},
    }
    compose = yaml.safe_load(export("compose", processes, "--replicas=worker=3"))
    assert compose["services"]["worker"]["deploy"] == {"replicas": 3}
    assert "deploy" not in compose["services"]["web"]
    output = export("kubernetes", processes, "--replicas", "web=2", "--project=app")
    deployments = {
        doc["metadata"]["name"]: doc
        for doc in yaml.safe_load_all(output)
        if doc and doc["kind"] == "Deployment"
    }
    assert deployments["app-web"]["spec"]["replicas"] == 2
    assert deployments["app-worker"]["spec"]["replicas"] == 1
    supervisor = export("supervisor", processes, "--replicas=worker=4")
    assert "numprocs=4\nprocess_name=%(program_name)s_%(process_num)02d\n" in supervisor
    assert capsys.readouterr().err == ""


def test_a_single_instance_process_gets_one_replica_and_a_warning(capsys):
    processes = {"beat": {"BACKEND": RUNS_ONCE}}
    documents = list(yaml.safe_load_all(export("kubernetes", processes, "--replicas=beat=3")))
    deployment = next(doc for doc in documents if doc)
    assert deployment["spec"]["replicas"] == 1
    # Not even two at once during a rollout.
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert capsys.readouterr().err == (
        "Warning: Process 'beat' (echo) must run once; it gets 1 replica, not the 3 asked for.\n"
    )
    compose = yaml.safe_load(export("compose", processes, "--replicas=beat=2"))
    assert "deploy" not in compose["services"]["beat"]
    assert "numprocs" not in export("supervisor", processes, "--replicas=beat=5")


def plan_of(backend, args):
    loaded = load_backend(ProcessSpec("web", backend, args))
    return loaded, loaded.plan()


@pytest.mark.parametrize(
    ("backend", "args", "address"),
    [
        (GUNICORN, {}, Address("127.0.0.1", 8000)),
        (GUNICORN, {"bind": ["0.0.0.0:9000", "unix:/run/a.sock"]}, Address("0.0.0.0", 9000)),
        (GUNICORN, {"bind": "unix:/run/web.sock"}, Address(path="/run/web.sock")),
        (GUNICORN, {"bind": "[::]:8443"}, Address("::", 8443)),
        (GUNICORN, ["-b", "example.com"], Address("example.com", 8000)),
        (UVICORN, {}, Address("127.0.0.1", 8000)),
        (UVICORN, {"host": "0.0.0.0", "port": 9001}, Address("0.0.0.0", 9001)),
        (UVICORN, {"uds": "/run/u.sock"}, Address(path="/run/u.sock")),
        (UVICORN, {"fd": 3}, None),
        (GRANIAN, {"port": 9002}, Address("127.0.0.1", 9002)),
        (WAITRESS, {}, Address("0.0.0.0", 8080)),
        (WAITRESS, {"listen": "127.0.0.1:9003"}, Address("127.0.0.1", 9003)),
        (WAITRESS, {"port": 9004}, Address("0.0.0.0", 9004)),
        (WAITRESS, {"unix_socket": "/run/w.sock"}, Address(path="/run/w.sock")),
        (DAPHNE, {}, Address("127.0.0.1", 8000)),
        (DAPHNE, {"bind": "0.0.0.0"}, Address("0.0.0.0", 8000)),
        (DAPHNE, {"port": 9005}, Address("127.0.0.1", 9005)),
        (DAPHNE, {"unix-socket": "/run/d.sock"}, Address(path="/run/d.sock")),
        (HYPERCORN, {}, Address("127.0.0.1", 8000)),
        (HYPERCORN, {"bind": "0.0.0.0:9006"}, Address("0.0.0.0", 9006)),
    ],
)
def test_listen_address(backend, args, address):
    loaded, plan = plan_of(backend, args)
    assert loaded.listen_address(plan) == address


def test_listen_address_follows_port_from_the_environment(monkeypatch):
    monkeypatch.setenv("PORT", "5123")
    loaded, plan = plan_of(GUNICORN, {})
    assert loaded.listen_address(plan) == Address("0.0.0.0", 5123)


def test_a_worker_has_no_address_and_no_graceful_window():
    loaded = load_backend(ProcessSpec("w", WORKER))
    plan = Plan("w", ("echo",))
    assert (loaded.listen_address(plan), loaded.graceful_timeout(plan)) == (None, None)
    assert loaded.single_instance is False


def test_a_server_bound_to_loopback_in_a_container_is_a_warning(capsys):
    export("compose", {"web": {"BACKEND": GUNICORN}})
    assert capsys.readouterr().err == (
        "Warning: Process 'web' listens on 127.0.0.1:8000, which nothing outside its container "
        "can reach (nor a health check from outside). Bind it to 0.0.0.0 in ARGS.\n"
    )
