"""Reading inherited sockets: the variables of systemd and of the runner, on real sockets."""

from __future__ import annotations

import os
import socket
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from django_prodserver.inherited_sockets import (
    RUNNER_FDS,
    InheritedSocketError,
    take_inherited_sockets,
)

PID = 4242


@pytest.fixture
def listening() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def address_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()
    return f"{host}:{port}"


def test_nothing_inherited_leaves_the_environment_alone():
    environ = {"PATH": "/usr/bin"}
    assert take_inherited_sockets(environ, PID) is None
    assert environ == {"PATH": "/usr/bin"}


def test_the_runner_s_fds_are_read_and_their_variable_removed(listening, tmp_path):
    with socket.socket(socket.AF_UNIX) as unix:
        unix.bind(str(tmp_path / "web.sock"))
        unix.listen()
        fds = (listening.fileno(), unix.fileno())
        environ = {RUNNER_FDS: f"{fds[0]}, {fds[1]}", "KEEP": "1"}
        inherited = take_inherited_sockets(environ, PID)

    assert environ == {"KEEP": "1"}
    assert inherited is not None
    assert inherited.source == "the runner"
    assert inherited.fds == fds
    assert [item.address for item in inherited.sockets] == [
        address_of(listening),
        f"unix:{tmp_path / 'web.sock'}",
    ]
    assert inherited.describe().startswith(
        f"the socket(s) the runner passed (fd {fds[0]}: {address_of(listening)}, "
    )
    assert os.get_inheritable(fds[0])  # it survives the exec to the server


def test_systemd_s_variables_for_another_process_are_removed_and_ignored():
    environ = {"LISTEN_FDS": "1", "LISTEN_PID": str(PID + 1), "LISTEN_FDNAMES": "web"}
    assert take_inherited_sockets(environ, PID) is None
    assert environ == {}


def test_systemd_s_sockets_start_at_fd_3(listening):
    with at_fd_3(listening):
        environ = {"LISTEN_FDS": "1", "LISTEN_PID": str(PID), "LISTEN_FDNAMES": "web"}
        inherited = take_inherited_sockets(environ, PID)
    assert environ == {}
    assert inherited is not None
    assert inherited.source == "systemd"
    assert [(item.fd, item.address, item.name) for item in inherited.sockets] == [
        (3, address_of(listening), "web")
    ]


def test_what_twisted_kept_of_systemd_s_variables_is_read(listening, monkeypatch):
    """daphne's app imports Twisted while Django sets up, and Twisted deletes the variables."""
    kept = types.SimpleNamespace(
        inheritedDescriptors=lambda: [3], inheritedNamedDescriptors=lambda: {"web": 3}
    )
    endpoints = types.SimpleNamespace(_SystemdParser=types.SimpleNamespace(_sddaemon=kept))
    monkeypatch.setitem(sys.modules, "twisted.internet.endpoints", endpoints)
    with at_fd_3(listening):
        inherited = take_inherited_sockets({}, PID)
    assert inherited is not None
    assert inherited.source == "systemd"
    assert inherited.fds == (3,)


@contextmanager
def at_fd_3(sock: socket.socket) -> Iterator[None]:
    """`sock` also at fd 3, where systemd passes the first socket; fd 3 restored after."""
    saved = os.dup(3) if is_open(3) else None
    os.dup2(sock.fileno(), 3)
    try:
        yield
    finally:
        if saved is None:
            os.close(3)
        else:
            os.dup2(saved, 3)
            os.close(saved)


def is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("seven", "expected the numbers of the inherited file descriptors"),
        ("", "expected the numbers of the inherited file descriptors"),
        ("7,,9", "expected the numbers of the inherited file descriptors"),
        ("999", "names fd 999, which is not open in this process"),
    ],
)
def test_a_bad_runner_variable_is_an_error_that_names_it(value, expected):
    with pytest.raises(InheritedSocketError) as raised:
        take_inherited_sockets({RUNNER_FDS: value}, PID)
    assert expected in str(raised.value)
    assert RUNNER_FDS in str(raised.value)


def test_a_bad_listen_fds_is_an_error():
    with pytest.raises(InheritedSocketError, match=r"LISTEN_FDS='none': systemd sets it"):
        take_inherited_sockets({"LISTEN_FDS": "none", "LISTEN_PID": str(PID)}, PID)


def test_an_fd_that_is_no_listening_stream_socket_is_refused(tmp_path: Path):
    with (
        (tmp_path / "file").open("w") as a_file,
        socket.socket() as unbound,
        socket.socket(type=socket.SOCK_DGRAM) as datagram,
    ):
        cases = {
            a_file.fileno(): "is not a socket",
            unbound.fileno(): "is a socket that does not listen",
            datagram.fileno(): "is not a stream socket",
        }
        for fd, problem in cases.items():
            with pytest.raises(InheritedSocketError) as raised:
                take_inherited_sockets({RUNNER_FDS: str(fd)}, PID)
            assert f"{RUNNER_FDS} names fd {fd}, which {problem}" in str(raised.value)
            assert "Fix: " in str(raised.value)


def test_both_sources_at_once_are_refused(listening):
    with at_fd_3(listening):
        environ = {"LISTEN_FDS": "1", "LISTEN_PID": str(PID), RUNNER_FDS: "3"}
        with pytest.raises(InheritedSocketError, match="Both LISTEN_FDS"):
            take_inherited_sockets(environ, PID)


def test_which_servers_take_sockets():
    """The runner hands sockets only to these (Backend.takes_sockets)."""
    from django_prodserver.backends import daphne, granian, gunicorn, hypercorn, uvicorn, waitress
    from django_prodserver.backends.dev import django_runserver, werkzeug

    taking = [
        gunicorn.GunicornServer,
        uvicorn.UvicornServer,
        uvicorn.UvicornWSGIServer,
        hypercorn.HypercornServer,
        daphne.DaphneServer,
        waitress.WaitressServer,
    ]
    refusing = [
        granian.GranianASGIServer,
        granian.GranianWSGIServer,
        daphne.DaphneRunserver,
        django_runserver.DjangoRunserver,
        werkzeug.WerkzeugRunserver,
    ]
    assert all(backend.takes_sockets for backend in taking)
    assert not any(backend.takes_sockets for backend in refusing)
    assert "SO_REUSEPORT" in granian.GranianWSGIServer.sockets_refusal
