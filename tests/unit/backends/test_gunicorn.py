"""The gunicorn backend's plan: names from gunicorn's registry, values through its validators."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from django.test import override_settings

from django_prodserver.backends.gunicorn import GunicornServer, option_table, place_control_socket
from django_prodserver.errors import ApplicationError, MissingPackageError, OptionError
from django_prodserver.processes import ProcessSpec
from tests.unit.backends import support

PATH = "django_prodserver.backends.gunicorn.GunicornServer"


line = partial(support.line, backend=GunicornServer)


def test_the_seed_translation():
    args = {"bind": "0.0.0.0:8000", "workers": "4", "timeout": "60", "worker-class": "sync"}
    assert line(args) == (
        "gunicorn --bind=0.0.0.0:8000 --workers=4 --timeout=60 --worker-class=sync "
        "myproject.wsgi:application"
    )


def test_every_gunicorn_setting_with_a_command_line_form_is_known():
    from gunicorn.config import KNOWN_SETTINGS

    table = option_table()
    for setting in KNOWN_SETTINGS:
        if setting.cli:
            assert table.find(setting.name, "web")[0].key == setting.name
            for flag in setting.cli:
                assert table.find(flag, "web")[0].key == setting.name


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"keepalive": "5"}, "--keep-alive=5"),
        ({"keep-alive": 5}, "--keep-alive=5"),
        ({"accesslog": "-"}, "--access-logfile=-"),
        ({"access-logfile": "-"}, "--access-logfile=-"),
        ({"errorlog": "/tmp/e.log"}, "--error-logfile=/tmp/e.log"),
        ({"loglevel": "debug"}, "--log-level=debug"),
        ({"pidfile": "/tmp/g.pid"}, "--pid=/tmp/g.pid"),
        ({"worker_class": "gthread"}, "--worker-class=gthread"),
        ({"reload": "True"}, "--reload"),
        ({"capture-output": "True"}, "--capture-output"),
        ({"daemon": True}, "--daemon"),
        ({"preload_app": True}, "--preload"),
        ({"sendfile": False}, "--no-sendfile"),
        ({"access-logformat": '%(h)s "%(r)s"'}, "'--access-logformat=%(h)s \"%(r)s\"'"),
        ({"bind": ["127.0.0.1:1", "unix:/tmp/s"]}, "--bind=127.0.0.1:1 --bind=unix:/tmp/s"),
        ({"umask": "0o22"}, "--umask=0o22"),
    ],
)
def test_names_from_the_seed_and_gunicorn_docs(args, expected):
    assert line(args) == f"gunicorn {expected} myproject.wsgi:application"


def test_none_leaves_an_option_unset():
    assert (
        line({"accesslog": None, "workers": 2}) == "gunicorn --workers=2 myproject.wsgi:application"
    )


def test_false_leaves_a_flag_off():
    assert line({"reload": "False", "daemon": False}) == "gunicorn myproject.wsgi:application"


def test_argv_form_and_overrides():
    assert line(["--bind=0.0.0.0:8000", "-w", "2"], ["--workers=8"]) == (
        "gunicorn --bind=0.0.0.0:8000 --workers=8 myproject.wsgi:application"
    )


def test_an_override_replaces_rather_than_adds():
    assert line({"bind": "a:1", "workers": 2}, ["-b", "127.0.0.1:9"]) == (
        "gunicorn --bind=127.0.0.1:9 --workers=2 myproject.wsgi:application"
    )


def test_the_application_can_be_named():
    assert line({"wsgi_app": "other.wsgi:app"}) == "gunicorn other.wsgi:app"
    assert line(["other.wsgi:app"]) == "gunicorn other.wsgi:app"


def test_unknown_option_suggests_gunicorn_names():
    with pytest.raises(OptionError, match=r"gunicorn has no option `keepalive-timeout`.*keepalive"):
        line({"keepalive-timeout": 5})


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ({"workers": "four"}, "-w/--workers: invalid int value: 'four'"),
        ({"timeout": "-5"}, "`timeout` (-5): Value must be positive"),
        ({"loglevel": 3, "bind": True}, "`bind` takes a value"),
        ({"reload": "sometimes"}, "expected True or False"),
    ],
)
def test_invalid_values_are_rejected_by_gunicorns_validators(args, words):
    with pytest.raises(OptionError) as error:
        line(args)
    assert words in str(error.value)
    assert "Process 'web'" in str(error.value)


def test_a_setting_without_a_command_line_form_points_at_a_config_file():
    with pytest.raises(OptionError, match=r"`on_starting` has no command-line form.*config"):
        line({"on_starting": "x"})


def test_eventlet_is_gone_from_gunicorn_26():
    import gunicorn

    if int(gunicorn.__version__.split(".")[0]) < 26:
        pytest.skip("gunicorn before 26 still has an eventlet worker")
    with pytest.raises(OptionError, match=r"no eventlet worker.*pip install 'django-prodserver"):
        line({"worker-class": "eventlet"})


def test_a_worker_class_whose_package_is_missing_names_the_pip_line():
    with pytest.raises(
        MissingPackageError, match=r"(?s)'no_such_package'.*pip install no_such_package"
    ):
        line({"worker-class": "no_such_package.workers.Worker"})


def test_an_unknown_worker_class_name():
    # gunicorn before 26 still lists its eventlet worker among the nearest ones.
    nearest = r"\(did you mean `gevent`(, | or )`gevent_wsgi`( or `eventlet`)?\?\)"
    with pytest.raises(OptionError, match=r"worker class `gevnt`.*" + nearest):
        line({"worker-class": "gevnt"})


def test_a_misspelt_worker_class_path_is_an_error_with_the_nearest_class():
    """It used to pass the checks, then gunicorn died with a traceback at the start."""
    with pytest.raises(OptionError) as error:
        line({"worker-class": "uvicorn_worker.UvicornWorkr"})
    assert str(error.value) == (
        "Process 'web': gunicorn's worker class `uvicorn_worker.UvicornWorkr` does not exist: "
        "the module `uvicorn_worker` has no class `UvicornWorkr` (did you mean `UvicornWorker` or "
        "`UvicornH11Worker`?)."
    )


def test_no_wsgi_application_setting():
    spec = ProcessSpec("web", PATH, {})
    with override_settings(WSGI_APPLICATION=None), pytest.raises(ApplicationError):
        GunicornServer(spec).plan()


def test_missing_gunicorn_names_the_pip_line(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gunicorn", None)
    with pytest.raises(MissingPackageError, match=r"pip install 'django-prodserver\[gunicorn\]'"):
        GunicornServer(ProcessSpec("web", PATH, {})).plan()


def test_app_is_not_silently_ignored():
    spec = ProcessSpec("web", PATH, {}, app="myproject.celery.app")
    with pytest.raises(OptionError, match="APP is for worker backends"):
        GunicornServer(spec).plan()


def test_an_asgi_worker_class_serves_the_asgi_application():
    import gunicorn.workers

    if "asgi" not in gunicorn.workers.SUPPORTED_WORKERS:
        pytest.skip("this gunicorn has no ASGI worker of its own (added in gunicorn 25)")
    spec = ProcessSpec("web", PATH, {"worker-class": "asgi"})
    with override_settings(ASGI_APPLICATION="myproject.asgi.application"):
        assert GunicornServer(spec).plan().argv[-1] == "myproject.asgi:application"


def test_a_control_socket_folder_of_its_own_where_home_is_not_the_users(tmp_path):
    # supervisord's user= keeps supervisord's HOME: one the user cannot write, here one
    # that does not exist (the home of `nobody`), with no XDG_RUNTIME_DIR.
    environ = {"HOME": str(tmp_path / "nonexistent")}
    place_control_socket("web", environ)
    folder = Path(environ["XDG_RUNTIME_DIR"])
    assert folder.is_dir()
    assert folder.name.startswith("prodserver-web-")
    assert folder.stat().st_mode & 0o777 == 0o700
    folder.rmdir()


@pytest.mark.parametrize("writable", ["XDG_RUNTIME_DIR", "HOME"])
def test_gunicorns_own_default_kept_where_the_user_can_write_it(tmp_path, writable):
    environ = {"HOME": str(tmp_path / "nonexistent"), writable: str(tmp_path)}
    place_control_socket("web", environ)
    assert environ == {"HOME": str(tmp_path / "nonexistent"), writable: str(tmp_path)}
