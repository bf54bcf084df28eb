"""The pieces of the runner's sockets and reload that need no runner: a formation as typed,
the runner's record, the reload's health probe against a real socket, the sockets bound."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from django_prodserver.errors import ProdserverError
from django_prodserver.formation import MOST_COPIES, read_formation
from django_prodserver.runner.health_probe import HttpProbe
from django_prodserver.runner.registry import (
    record_folder,
    remove_record,
    running_runners,
    write_record,
)
from django_prodserver.runner.sockets import (
    ListenError,
    bind_private,
    bind_tcp,
    bind_unix,
    close_private,
    private_address,
)


def test_a_formation_gives_each_name_its_count():
    assert read_formation(["web=2", "worker", "beat=1"]) == (
        ["web", "worker", "beat"],
        {"web": 2, "beat": 1},
    )


@pytest.mark.parametrize("word", ["web=0", "web=-1", "web=two", "web=", "=3", "web=²", "web=65"])
def test_a_formation_count_that_is_not_1_to_the_bound_is_refused(word):
    with pytest.raises(ProdserverError, match=f"from 1 to {MOST_COPIES}"):
        read_formation([word])


def test_one_name_given_two_counts_is_refused():
    with pytest.raises(ProdserverError, match="'web' is given two counts"):
        read_formation(["web=2", "web=3"])


def test_the_record_folder_is_per_user_project_and_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    one = record_folder("/srv/app", "app.settings", uid=1000)
    assert one.startswith(str(tmp_path / "django-prodserver-1000"))
    assert one != record_folder("/srv/app", "app.settings_test", uid=1000)
    assert one != record_folder("/srv/other", "app.settings", uid=1000)
    assert one == record_folder("/srv/app", "app.settings", uid=1000)


def test_a_record_of_a_process_that_is_no_runner_is_stale_and_removed(tmp_path):
    folder = str(tmp_path / "records")
    path = write_record(folder, ["web"])
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # This process (pytest) wrote it, but it does not run the runner's supervisor.
    assert running_runners(folder) == []
    assert not os.path.exists(path)
    remove_record(path)  # gone already: nothing to do


@pytest.mark.parametrize("made_by_another", ["open to all", "a link elsewhere"])
def test_no_record_is_written_in_a_user_folder_another_could_have_made(tmp_path, made_by_another):
    user_folder = tmp_path / "django-prodserver-0"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    if made_by_another == "open to all":
        user_folder.mkdir()
        user_folder.chmod(0o777)
    else:
        user_folder.symlink_to(elsewhere)
    with pytest.raises(OSError, match="is not this user's alone: remove it"):
        write_record(str(user_folder / "project"), ["web"])
    assert running_runners(str(user_folder / "project")) == []
    assert list(elsewhere.iterdir()) == []


def test_a_live_supervisor_is_found_by_its_record(tmp_path):
    folder = str(tmp_path / "records")
    code = (
        "import sys, time\n"
        "from django_prodserver.runner.registry import write_record\n"
        f"write_record({folder!r}, ['web', 'worker'])\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    # The command line of a supervisor: `python -m django_prodserver.runner.supervise FD`.
    child = subprocess.Popen(
        [sys.executable, "-c", code, "django_prodserver.runner.supervise"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        # Found by the supervisor module's name among the words of its command line.
        [runner] = running_runners(folder)
        assert (runner.pid, runner.names) == (child.pid, ("web", "worker"))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert running_runners(folder) == []


def serve_once(listener: socket.socket, answer: bytes) -> threading.Thread:
    def serve() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def run_probe(probe: HttpProbe) -> None:
    with selectors.DefaultSelector() as selector:
        while probe.answer is None:
            selector.register(probe, probe.events)
            assert selector.select(10), "the probe waits for nothing"
            selector.unregister(probe)
            probe.step()


def test_the_probe_reads_the_status_of_a_real_answer():
    with bind_tcp("127.0.0.1", 0, 16) as listener:
        port = listener.getsockname()[1]
        serve_once(listener, b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
        probe = HttpProbe("127.0.0.1", port, "/healthz", "example.com")
        run_probe(probe)
    assert probe.answer is not None
    assert probe.answer.status == 503
    assert probe.answer.seen == f"GET http://127.0.0.1:{port}/healthz answered 503"


def test_a_connection_closed_without_an_answer_is_no_status():
    with bind_tcp("127.0.0.1", 0, 16) as listener:
        port = listener.getsockname()[1]
        serve_once(listener, b"")
        probe = HttpProbe("127.0.0.1", port, "/", "localhost")
        run_probe(probe)
    assert probe.answer is not None
    assert probe.answer.status is None
    assert "closed the connection without an answer" in probe.answer.seen


def test_a_tcp_socket_listens_with_reuseaddr_and_the_backlog():
    with bind_tcp("127.0.0.1", 0, 7) as listener:
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
        assert not os.get_inheritable(listener.fileno())


def test_a_unix_socket_replaces_a_stale_file_and_refuses_a_live_one(tmp_path: Path):
    path = str(tmp_path / "web.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()
    with bind_unix(path, 8, 0o660, None) as listener:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
        with pytest.raises(ListenError, match="a process listens on"):
            bind_unix(path, 8, None, None)
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    regular = tmp_path / "file"
    regular.write_text("")
    with pytest.raises(ListenError, match="exists and is not a socket"):
        bind_unix(str(regular), 8, None, None)


def test_a_private_unix_socket_is_probed_and_removed_with_its_folder():
    private = bind_private(unix=True)
    path, port = private_address(private)
    assert port == 0
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    serve_once(private, b"HTTP/1.0 200 OK\r\n\r\nok")
    probe = HttpProbe(path, 0, "/healthz", "localhost")
    run_probe(probe)
    assert probe.answer is not None
    assert probe.answer.status == 200
    assert probe.answer.seen == f"GET http+unix://{path}/healthz answered 200"
    close_private(private)
    assert not os.path.exists(os.path.dirname(path))
