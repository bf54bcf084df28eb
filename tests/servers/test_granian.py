"""granian through `prodserver`: ASGI and WSGI, SIGTERM, requests in flight, workers, sockets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.load import LoadClient
from tests.support import (
    EXAMPLE,
    RELOADABLE_SETTINGS,
    Running,
    get,
    is_a_last_answer,
    request_in_flight,
    seconds_an_idle_connection_stays_open_after_sigterm,
    served_on_an_idle_connection_after_sigterm,
    served_once,
    write_views,
)

ASGI = "django_prodserver.backends.granian.GranianASGIServer"
WSGI = "django_prodserver.backends.granian.GranianWSGIServer"
BACKENDS = pytest.mark.parametrize("backend", [ASGI, WSGI], ids=["asgi", "wsgi"])
STOP_BOUND = 8.0  # the target is 2 s
# On SIGTERM granian stops its workers, waits for them, and exits with status 0, as the
# `granian` command does (test_the_exit_status_is_the_granian_commands_own).
STOPPED_BY_SIGTERM = 0

pytestmark = pytest.mark.server


def start(project, started, *args, env=None):
    server = project.start("prodserver", "web", *args, env=env)
    started.append(server)
    return server


def stop_while_a_worker_boots(server: Running) -> tuple[int, float]:
    """SIGTERM as soon as granian has forked its worker, while the worker loads Django.

    granian's own log line says when: counting processes would not, as the example
    project's imports run short-lived helpers of their own (croniter runs `file`).
    """
    deadline = time.monotonic() + 30
    while "Spawning worker-1" not in server.output and time.monotonic() < deadline:
        if server.popen.poll() is not None:
            raise AssertionError(f"exited with {server.popen.returncode}:\n{server.output}")
        time.sleep(0.005)
    return server.stop(timeout=STOP_BOUND)


@BACKENDS
def test_serves_and_stops_promptly_on_sigterm(make_project, port, started, backend):
    project = make_project({"web": {"BACKEND": backend, "ARGS": {"port": port}}})
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    assert get(f"127.0.0.1:{port}") == (200, "Hello from django-prodserver's example project.\n")
    assert get(f"127.0.0.1:{port}", "/async/") == (200, "Hello from an async view.\n")

    code, seconds = server.stop()

    assert code == STOPPED_BY_SIGTERM, server.output
    assert seconds < STOP_BOUND, server.output
    assert server.wait_for_no_process_left() == []
    assert "Traceback" not in server.output
    assert "Granian shutdown completed" in server.output


def test_the_exit_status_is_the_granian_commands_own(make_project, port, started):
    """The `granian` command, started by hand on the dry-run line, ends SIGTERM the same way."""
    project = make_project({"web": {"BACKEND": WSGI, "ARGS": {"port": port}}})
    line = project.manage("prodserver", "web", "--dry-run").stdout.split()
    assert line[0] == "granian"
    log = project.directory / "granian-command.log"
    with log.open("w") as output:
        popen = subprocess.Popen(
            [sys.executable, "-m", *line],
            cwd=project.directory,
            env=project.env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    by_hand = Running(popen, log)
    started.append(by_hand)
    by_hand.wait_until_serving(f"127.0.0.1:{port}")
    by_hand_code, _ = by_hand.stop()
    assert by_hand.wait_for_no_process_left() == []

    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    code, _ = server.stop()

    assert by_hand_code == code == STOPPED_BY_SIGTERM


@BACKENDS
def test_a_request_in_flight_completes(make_project, port, started, backend):
    project = make_project({"web": {"BACKEND": backend, "ARGS": {"port": port}}})
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    request, answers = request_in_flight(f"127.0.0.1:{port}")

    code, seconds = server.stop()
    request.join(30)

    assert answers == [(200, "slept 2.0\n")], server.output
    assert code == STOPPED_BY_SIGTERM
    assert 1.0 < seconds < STOP_BOUND  # it waited for the request, and no longer
    assert server.wait_for_no_process_left() == []


@BACKENDS
@pytest.mark.parametrize("served_before", [True, False], ids=["keep-alive", "not-read-yet"])
def test_an_idle_connection_is_still_served_once_as_it_stops(
    make_project, port, started, backend, served_before
):
    """The keep-alive close race: a request sent on an idle connection just after SIGTERM
    is answered with Connection: close (granian alone closes such a connection at once)."""
    project = make_project({"web": {"BACKEND": backend, "ARGS": {"port": port}}})
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    answer, rest = served_on_an_idle_connection_after_sigterm(
        server, ("127.0.0.1", port), served_before
    )
    code = server.popen.wait(30)

    assert is_a_last_answer(answer, rest), (answer, rest)
    assert code == STOPPED_BY_SIGTERM, server.output


def test_an_idle_connection_that_sends_nothing_closes_when_the_linger_ends(
    make_project, port, started
):
    project = make_project({"web": {"BACKEND": WSGI, "ARGS": {"port": port}}})
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    closed_after = seconds_an_idle_connection_stays_open_after_sigterm(server, ("127.0.0.1", port))
    code = server.popen.wait(30)

    print(f"granian closed an idle connection {closed_after:.2f} s after SIGTERM (linger 2 s)")
    assert 1.0 < closed_after < STOP_BOUND, server.output
    assert code == STOPPED_BY_SIGTERM, server.output


def test_a_draining_worker_accepts_no_new_connection_and_does_not_spin(make_project, port, started):
    """While it drains, the worker's port is closed to new connections (in a reload they go
    to the new granian beside it), and its accept loop sleeps rather than retrying."""
    project = make_project({"web": {"BACKEND": WSGI, "ARGS": {"port": port}}})
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    [worker] = set(server.session_pids()) - {server.popen.pid}
    kept = socket.create_connection(("127.0.0.1", port))  # keeps the worker draining
    try:
        assert served_once(kept).startswith(b"HTTP/1.1 200")
        server.popen.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        cpu_before = cpu_seconds(worker)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
        time.sleep(1.0)
        cpu_in_a_second = cpu_seconds(worker) - cpu_before
    finally:
        kept.close()
    code = server.popen.wait(30)

    assert cpu_in_a_second < 0.5, cpu_in_a_second
    assert code == STOPPED_BY_SIGTERM, server.output
    assert server.wait_for_no_process_left() == []


def test_a_drain_ends_when_the_last_connection_closes(make_project, port, started):
    """With no connection open the stop does not wait for the linger (2 s)."""
    project = make_project({"web": {"BACKEND": ASGI, "ARGS": {"port": port}}})
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    assert get(f"127.0.0.1:{port}")[0] == 200  # its connection is closed

    code, seconds = server.stop()

    assert code == STOPPED_BY_SIGTERM, server.output
    assert seconds < 1.8, server.output  # an idle granian stops in about 0.2 s


def test_sighup_replaces_the_workers_with_new_code_and_loses_no_request(
    make_project, port, started
):
    """What `systemctl reload` does (the systemd export's ExecReload): granian starts a new
    worker beside each old one, which imports the project afresh, then stops the old one,
    which drains. Without the drain, a few requests a reload needed a retry."""
    # granian stops an old worker `respawn-interval` after it started the new one, ready
    # or not: long enough for the new one to import the project on a busy machine.
    args = {"host": "127.0.0.1", "port": port, "workers": 2, "respawn-interval": 6}
    project = make_project({"web": {"BACKEND": WSGI, "ARGS": args}}, RELOADABLE_SETTINGS)
    write_views(project, "one")
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    assert get(f"127.0.0.1:{port}")[1] == "one"

    with LoadClient(f"127.0.0.1:{port}", threads=16) as load:
        load.wait_for_ok(50)
        write_views(project, "two")
        server.popen.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while server.output.count("Stopped old worker") < 2:
            assert time.monotonic() < deadline, server.output
            time.sleep(0.1)
        time.sleep(0.5)
    result = load.result

    print(f"granian, SIGHUP under load: {result.summary()}")
    assert [get(f"127.0.0.1:{port}")[1] for _ in range(4)] == ["two"] * 4
    assert result.ok > 100
    # A new connection in its handshake as an old worker closes its socket is reset by the
    # kernel (docs/backend-granian.md): rare, and nothing else may fail.
    assert result.failed == result.reset_new <= 2, (result.summary(), result.errors)
    assert (result.refused, result.retried) == (0, 0), (result.summary(), result.errors)
    assert server.popen.poll() is None  # the same process, as systemd watches it
    code, _ = server.stop()
    assert code == STOPPED_BY_SIGTERM, server.output
    assert server.wait_for_no_process_left() == []


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time a process has used (Linux's /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_asgi_without_asgi_application_serves_the_asgi_module_beside_wsgi(
    make_project, port, started
):
    """The example project, like startproject's, sets WSGI_APPLICATION only."""
    project = make_project({"web": {"BACKEND": ASGI, "ARGS": {"port": port}}})
    assert "ASGI_APPLICATION" not in (EXAMPLE / "exampleproject" / "settings.py").read_text()
    dry_run = project.manage("prodserver", "web", "--dry-run")
    assert dry_run.stdout == (
        f"granian --interface=asgi --port={port} exampleproject.asgi:application\n"
    )
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}", "/async/")


def test_workers_spawn_and_serve(make_project, port, started):
    project = make_project({"web": {"BACKEND": WSGI, "ARGS": {"port": port, "workers": 1}}})
    server = start(project, started, "--workers=2")
    server.wait_until_serving(f"127.0.0.1:{port}")
    assert server.wait_for_process_count(3) == 3  # granian's main process and two workers
    workers = set(server.session_pids()) - {server.popen.pid}
    assert len(workers) == 2
    # Granian's workers share one listening socket and the kernel picks which accepts, often
    # the same one many times in a row (emmett-framework/granian#849), so the test asks only
    # that a worker, not the main process, answers.
    status, body = get(f"127.0.0.1:{port}", "/pid/")
    assert status == 200
    answer = json.loads(body)
    assert answer["ppid"] == server.popen.pid
    assert answer["pid"] in workers

    code, seconds = server.stop()

    assert code == STOPPED_BY_SIGTERM
    assert seconds < STOP_BOUND
    assert server.wait_for_no_process_left() == []


@BACKENDS
def test_unix_socket(make_project, started, tmp_path, backend):
    socket_path = tmp_path / "granian.sock"
    project = make_project({"web": {"BACKEND": backend, "ARGS": {"uds": str(socket_path)}}})
    server = start(project, started)
    server.wait_until_serving(f"unix:{socket_path}", "/async/")
    code, seconds = server.stop()
    assert code == STOPPED_BY_SIGTERM
    assert seconds < STOP_BOUND


def test_port_from_the_environment(make_project, port, started):
    project = make_project({"web": {"BACKEND": ASGI}})
    server = start(project, started, env={"PORT": str(port)})
    server.wait_until_serving(f"127.0.0.1:{port}")


def test_stops_promptly_right_after_the_first_response(make_project, port, started):
    """The first response may come from one worker while the other still loads Django: that
    worker must not lose the SIGTERM (see serving.granian), or granian waits for it forever."""
    args = {"port": port, "workers": 2}
    project = make_project({"web": {"BACKEND": ASGI, "ARGS": args}})
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")

    code, seconds = server.stop(timeout=STOP_BOUND)

    assert code == STOPPED_BY_SIGTERM, server.output
    assert seconds < STOP_BOUND, server.output
    assert server.wait_for_no_process_left() == []


def test_workers_kill_timeout_bounds_a_stop_while_a_worker_boots(make_project, port, started):
    """With `workers-kill-timeout` set as well, the stop while a worker boots stays prompt."""
    args = {"port": port, "workers-kill-timeout": 2}
    project = make_project({"web": {"BACKEND": WSGI, "ARGS": args}})
    server = start(project, started)

    code, seconds = stop_while_a_worker_boots(server)

    assert code == STOPPED_BY_SIGTERM, server.output
    assert seconds < 2 + 3, server.output
    assert server.wait_for_no_process_left() == []


def test_stops_promptly_when_sigterm_comes_while_a_worker_boots(make_project, port, started):
    project = make_project({"web": {"BACKEND": WSGI, "ARGS": {"port": port}}})
    server = start(project, started)

    code, seconds = stop_while_a_worker_boots(server)

    assert code == STOPPED_BY_SIGTERM, server.output
    assert seconds < STOP_BOUND
    assert server.wait_for_no_process_left() == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"blocking-threads": 4}, "`blocking-threads` is 4, but granian's ASGI interface"),
        ({"port": "eighty"}, "Invalid value for '--port': 'eighty' is not a valid integer."),
        ({"acess-log": True}, "granian has no option `acess-log` (did you mean `access-log`"),
    ],
)
def test_a_bad_option_stops_before_starting(make_project, args, words):
    project = make_project({"web": {"BACKEND": ASGI, "ARGS": args}})
    result = project.manage("prodserver", "web")
    assert result.returncode == 1
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    assert "Starting granian" not in result.stdout + result.stderr


def test_the_names_of_django_prodserver_3_serve(make_project, port, started):
    """`address` and `threads`, as django-prodserver 3.0's granian backend took them."""
    args = {"address": "127.0.0.1", "port": port, "threads": 2}
    project = make_project({"web": {"BACKEND": WSGI, "ARGS": args}})
    assert project.manage("prodserver", "web", "--dry-run").stdout == (
        f"granian --interface=wsgi --host=127.0.0.1 --port={port} --blocking-threads=2 "
        f"exampleproject.wsgi:application\n"
    )
    server = start(project, started)
    server.wait_until_serving(f"127.0.0.1:{port}")
    assert get(f"127.0.0.1:{port}") == (200, "Hello from django-prodserver's example project.\n")
    code, _ = server.stop()
    assert code == STOPPED_BY_SIGTERM
