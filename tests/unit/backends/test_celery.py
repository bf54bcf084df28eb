"""The Celery backends' plans: names from Celery's click commands (Flower's own options),
every line checked by Celery's parser, APP and broker errors that say what to fix."""

from __future__ import annotations

import socket
import sys
import time
from functools import partial

import pytest
from django.test import override_settings

from django_prodserver._celery.app import load_app
from django_prodserver.backends import celery as celery_backends
from django_prodserver.backends.celery import CeleryBeat, CeleryFlower, CeleryWorker
from django_prodserver.checks import messages_in_depth
from django_prodserver.errors import (
    ApplicationError,
    MissingPackageError,
    OptionError,
    ProdserverError,
)
from django_prodserver.loading import load_backend
from django_prodserver.preflight.celery_broker import check_broker
from django_prodserver.processes import ProcessSpec
from tests.support import free_port
from tests.unit.backends import support

APP = "exampleproject.celery.app"
WORKER = "django_prodserver.backends.celery.CeleryWorker"


def plan(args, overrides=(), backend=CeleryWorker, app=APP):
    return backend(ProcessSpec("worker", WORKER, args, app=app)).plan(overrides)


line = partial(support.line, backend=CeleryWorker, name="worker", app=APP)


def closed_port_url(password="s3cret"):
    return f"redis://:{password}@127.0.0.1:{free_port()}/0"


# The lines


def test_worker_line():
    assert line({"concurrency": 4}) == f"celery -A {APP} worker --concurrency=4"


def test_the_plan_runs_celerys_own_module_in_this_process():
    worker_plan = plan({"loglevel": "info"})
    assert worker_plan.module == "celery"
    assert worker_plan.argv == ("celery", "-A", APP, "worker", "--loglevel=info")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"loglevel": "INFO"}, "--loglevel=INFO"),
        ({"l": "debug"}, "--loglevel=debug"),
        ({"queues": "default,emails"}, "--queues=default,emails"),
        ({"queues": ["default", "emails"]}, "--queues=default,emails"),
        ({"Q": "default"}, "--queues=default"),
        ({"autoscale": [10, 3]}, "--autoscale=10,3"),
        ({"pool": "threads"}, "--pool=threads"),
        ({"prefetch_multiplier": 1}, "--prefetch-multiplier=1"),
        ({"max-tasks-per-child": 100}, "--max-tasks-per-child=100"),
        ({"max_memory_per_child": 200000}, "--max-memory-per-child=200000"),
        ({"time_limit": 300, "soft_time_limit": 240}, "--time-limit=300 --soft-time-limit=240"),
        ({"without-gossip": True, "without_mingle": "True"}, "--without-gossip --without-mingle"),
        ({"without_heartbeat": False}, ""),
        ({"task_events": True}, "--task-events"),
        ({"events": True}, "--task-events"),
        ({"hostname": "w1@%h"}, "--hostname=w1@%h"),
        ({"pool_start_method": "spawn"}, "--pool-start-method=spawn"),
        ({"logfile": "/var/log/celery/%n.log"}, "--logfile=/var/log/celery/%n.log"),
        ({"loglevel": None}, ""),
    ],
)
def test_worker_options(args, expected):
    assert line(args) == f"celery -A {APP} worker {expected}".rstrip()


def test_celerys_own_options_go_before_the_sub_command():
    assert line({"concurrency": 2, "skip_checks": True, "quiet": True}) == (
        f"celery -A {APP} --skip-checks --quiet worker --concurrency=2"
    )


def test_an_argv_list_is_read_as_celery_reads_it():
    assert line(["-c", "2", "-Q", "a,b", "-E"]) == (
        f"celery -A {APP} worker --concurrency=2 --queues=a,b --task-events"
    )


def test_celery_settings_after_the_options_are_kept():
    assert line(["-l", "info", "worker_prefetch_multiplier=2"]) == (
        f"celery -A {APP} worker --loglevel=info worker_prefetch_multiplier=2"
    )


def test_command_line_overrides_replace_the_configured_value():
    assert line({"concurrency": 2, "loglevel": "info"}, ["--concurrency", "8", "-l", "debug"]) == (
        f"celery -A {APP} worker --concurrency=8 --loglevel=debug"
    )


def test_the_app_can_be_named_module_colon_attribute():
    assert line({}, app="exampleproject.celery:app") == (
        "celery -A exampleproject.celery:app worker"
    )


def test_options_the_app_adds_to_the_worker_are_accepted(monkeypatch):
    import click

    app = load_app("worker", "CeleryWorker", APP)
    option = click.Option(["--region"], help="An option of the project's own.")
    monkeypatch.setitem(app.user_options, "worker", {option})
    assert line({"region": "eu"}) == f"celery -A {APP} worker --region=eu"


def test_every_option_of_celerys_worker_command_is_known_by_its_name_and_flags():
    from celery.bin.worker import worker

    backend = CeleryWorker(ProcessSpec("worker", WORKER, {}, app=APP))
    table = backend.option_table(load_app("worker", "CeleryWorker", APP))
    for parameter in worker.params:
        if parameter.name in ("help", "version"):
            continue
        assert table.find(parameter.name, "worker")[0].key == parameter.name
        for flag in parameter.opts:
            assert table.find(flag, "worker")[0].key == parameter.name


def test_beat_line_with_its_schedule():
    assert line({"schedule": "/var/lib/celery/beat-schedule"}, backend=CeleryBeat) == (
        f"celery -A {APP} beat --schedule=/var/lib/celery/beat-schedule"
    )


def test_beat_options():
    args = {"schedule": "/tmp/s", "max_interval": 5, "remote_control": False, "l": "info"}
    assert line(args, backend=CeleryBeat) == (
        f"celery -A {APP} beat --schedule=/tmp/s --max-interval=5 "
        f"--no-enable-remote-control --loglevel=info"
    )


def test_beats_schedule_file_is_pinned_beside_manage_py_when_nothing_names_it(
    monkeypatch, tmp_path
):
    (tmp_path / "manage.py").touch()
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "manage.py"), "prodserver", "beat"])
    assert plan({}, backend=CeleryBeat).argv[-1] == f"--schedule={tmp_path}/celerybeat-schedule"


def test_without_manage_py_beats_schedule_file_is_pinned_in_the_working_directory(
    monkeypatch, tmp_path
):
    monkeypatch.setattr(sys, "argv", ["/venv/bin/django-admin", "prodserver", "beat"])
    monkeypatch.chdir(tmp_path)
    assert plan({}, backend=CeleryBeat).argv[-1] == f"--schedule={tmp_path}/celerybeat-schedule"


def test_beats_schedule_file_named_by_the_app_is_left_to_celery(monkeypatch):
    app = load_app("beat", "CeleryBeat", APP)
    monkeypatch.setitem(app.conf, "beat_schedule_filename", "/srv/beat/schedule")
    assert line({}, backend=CeleryBeat) == f"celery -A {APP} beat"


def test_another_scheduler_keeps_no_file():
    scheduler = "celery.beat:Scheduler"
    assert line({"scheduler": scheduler}, backend=CeleryBeat) == (
        f"celery -A {APP} beat --scheduler={scheduler}"
    )


def test_a_scheduler_that_does_not_import_is_named_before_the_start():
    with pytest.raises(OptionError) as raised:
        plan({"scheduler": "celery.beat:PersistentSchedular"}, backend=CeleryBeat)
    assert str(raised.value) == (
        "Process 'worker': celery beat's scheduler celery.beat:PersistentSchedular cannot be "
        "imported: AttributeError: module 'celery.beat' has no attribute 'PersistentSchedular'. "
        "It is `module:Class` or `module.Class` (Celery's default is "
        "celery.beat:PersistentScheduler)."
    )


def test_a_scheduler_whose_package_is_missing_says_so():
    with pytest.raises(MissingPackageError) as raised:
        plan({"scheduler": "redbeat:RedBeatScheduler"}, backend=CeleryBeat)
    assert str(raised.value) == (
        "Process 'worker': celery beat's scheduler redbeat:RedBeatScheduler needs the module "
        "'redbeat', which is not installed. Install the package that provides it, or name "
        "another scheduler."
    )


@pytest.mark.parametrize(
    "configured",
    [
        {"ARGS": {"scheduler": "django_celery_beat.schedulers:DatabaseScheduler"}},
        {"CELERY_BEAT_SCHEDULER": "django_celery_beat.schedulers.DatabaseScheduler"},
    ],
    ids=["args", "setting"],
)
def test_django_celery_beats_scheduler_without_its_package_gives_the_pip_line(
    monkeypatch, configured
):
    monkeypatch.setitem(sys.modules, "django_celery_beat", None)  # not installed
    app = load_app("beat", "CeleryBeat", APP)
    scheduler = configured.get("CELERY_BEAT_SCHEDULER")
    monkeypatch.setitem(app.conf, "beat_scheduler", scheduler or app.conf.beat_scheduler)
    with pytest.raises(MissingPackageError) as raised:
        plan(configured.get("ARGS", {}), backend=CeleryBeat)
    assert str(raised.value) == (
        f"Process 'worker': celery beat's scheduler {scheduler or configured['ARGS']['scheduler']} "
        "comes from django-celery-beat, which is not installed.\n"
        "Install it with: pip install django-celery-beat"
    )


def test_the_workers_embedded_beat_gets_the_same_pinned_schedule():
    argv = plan({"beat": True}).argv
    assert argv[4] == "--beat"
    assert argv[5].startswith("--schedule-filename=/")


def test_flower_line_and_kind():
    assert CeleryFlower.kind == "web"
    assert CeleryWorker.kind == CeleryBeat.kind == "worker"
    assert line({"port": 5555, "address": "127.0.0.1"}, backend=CeleryFlower) == (
        f"celery -A {APP} flower --port=5555 --address=127.0.0.1"
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"url_prefix": "flower"}, "--url-prefix=flower"),
        ({"url-prefix": "flower"}, "--url-prefix=flower"),
        ({"persistent": True, "db": "/var/lib/flower/db"}, "--persistent --db=/var/lib/flower/db"),
        ({"enable_events": False}, "--enable-events=false"),
        ({"purge_offline_workers": 60}, "--purge-offline-workers=60"),
        ({"max_tasks": 5000}, "--max-tasks=5000"),
        ({"logging": "warning"}, "--logging=warning"),
    ],
)
def test_flower_options(args, expected):
    assert line(args, backend=CeleryFlower) == f"celery -A {APP} flower {expected}"


def test_flower_takes_celerys_own_options_before_its_name():
    assert line({"broker": "redis://127.0.0.1:6390/0", "port": 5555}, backend=CeleryFlower) == (
        f"celery -A {APP} --broker=redis://127.0.0.1:6390/0 flower --port=5555"
    )


def test_flower_listens_on_port_when_the_platform_sets_it(monkeypatch):
    monkeypatch.setenv("PORT", "8080")
    assert line({}, backend=CeleryFlower) == f"celery -A {APP} flower --port=8080"
    assert line({"port": 5555}, backend=CeleryFlower) == f"celery -A {APP} flower --port=5555"


def test_the_legacy_workers_path_loads_the_same_backend():
    spec = ProcessSpec(
        "worker", "django_prodserver.backends.workers.celery.CeleryWorker", {}, app=APP
    )
    assert isinstance(load_backend(spec), CeleryWorker)


# Masking


NOTE = (
    "in the environment rather than on the command line, which every user of the machine can read"
)


def test_a_broker_password_goes_in_the_environment_not_on_the_command_line():
    """/proc/PID/cmdline is readable by every user; the environment only by the process's."""
    worker_plan = plan({"broker": "redis://:s3cret@redis.internal:6379/0", "concurrency": 2})
    assert worker_plan.argv == ("celery", "-A", APP, "worker", "--concurrency=2")
    assert worker_plan.env == {"CELERY_BROKER_URL": "redis://:s3cret@redis.internal:6379/0"}
    assert worker_plan.value("broker") == "redis://:s3cret@redis.internal:6379/0"
    assert worker_plan.command_line() == (
        f"CELERY_BROKER_URL=redis://:********@redis.internal:6379/0 celery -A {APP} worker "
        f"--concurrency=2  # CELERY_BROKER_URL {NOTE}"
    )


def test_a_broker_without_a_password_stays_on_the_command_line():
    assert line({"broker": "redis://redis.internal:6379/0"}) == (
        f"celery -A {APP} --broker=redis://redis.internal:6379/0 worker"
    )


def test_flowers_secrets_go_in_its_own_variables():
    flower_plan = plan(
        {
            "broker_api": "http://admin:s3cret@rabbit:15672/api/",
            "basic_auth": ["ann:pw1", "bob:pw2"],
            "port": 5555,
        },
        backend=CeleryFlower,
    )
    assert flower_plan.argv == ("celery", "-A", APP, "flower", "--port=5555")
    assert flower_plan.env == {
        "FLOWER_BROKER_API": "http://admin:s3cret@rabbit:15672/api/",
        "FLOWER_BASIC_AUTH": "ann:pw1,bob:pw2",
    }
    printed = flower_plan.command_line()
    assert "s3cret" not in printed
    assert "pw1" not in printed
    assert "FLOWER_BROKER_API=http://admin:********@rabbit:15672/api/" in printed


# Bad options


def test_unknown_option_suggests_the_nearest():
    with pytest.raises(OptionError, match=r"Celery has no option `concurency`.*`concurrency`"):
        line({"concurency": 4})


def test_unknown_override_suggests_the_nearest():
    with pytest.raises(OptionError, match=r"no option `--max-task-per-child`.*max-tasks-per-child"):
        line({}, ["--max-task-per-child=4"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"concurrency": -3}, r"Invalid value for '-c' / '--concurrency'"),
        ({"loglevel": "loud"}, r"Invalid value for '-l' / '--loglevel'.*'LOUD' is not one of"),
        ({"pool": "nope"}, r"Invalid value for '-P' / '--pool'.*'nope' is not one of"),
        ({"time_limit": "long"}, r"Invalid value for '--time-limit'"),
        ({"optimization": "fast"}, r"'fast' is not one of 'default', 'fair'"),
    ],
)
def test_celerys_parser_rejects_bad_values(args, message):
    with pytest.raises(OptionError, match=rf"Process 'worker': celery worker rejects.*{message}"):
        line(args)


def test_a_value_celery_cannot_convert_names_the_option():
    with pytest.raises(OptionError, match=r"celery worker cannot read `--autoscale=many,few`"):
        line({"autoscale": "many,few"})


def test_words_that_are_not_celery_settings_are_rejected():
    with pytest.raises(OptionError, match=r"oops: the words after the options are Celery settings"):
        line(["oops"])


def test_a_flag_takes_true_or_false():
    with pytest.raises(OptionError, match=r"`without_mingle` is a flag of Celery"):
        line({"without_mingle": "sometimes"})


def test_detach_is_refused():
    with pytest.raises(OptionError, match=r"`detach` would move celery worker to the background"):
        line({"detach": True})
    with pytest.raises(OptionError, match=r"`detach` would move celery beat"):
        line({"schedule": "/tmp/s"}, ["--detach"], backend=CeleryBeat)


def test_the_app_cannot_be_set_among_the_options():
    with pytest.raises(OptionError, match=r"the Celery application is set by APP"):
        line({"app": "other.celery.app"})
    with pytest.raises(OptionError, match=r"the Celery application is set by APP"):
        line({}, ["-A", "other.celery.app"])


def test_a_pool_whose_package_is_missing_gives_the_pip_line(monkeypatch):
    monkeypatch.setitem(celery_backends.POOL_PACKAGES, "threads", "no_such_pool_package")
    with pytest.raises(MissingPackageError, match=r"pip install no_such_pool_package"):
        line({"pool": "threads"})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"port": "eighty"}, r"Flower's `port` takes int, got 'eighty'"),
        ({"prot": 5555}, r"Flower has no option `prot` \(did you mean `port`\?\)"),
        ({"xheaders": "maybe"}, r"Flower's `xheaders` is True or False, got 'maybe'"),
        ({"auth": "*@*.example.com"}, r"Flower rejects `auth`"),
        # Flower's own words: "invalid scheme 'ftp'" (2.2), "Invalid http api schema" (2.0).
        (
            {"broker_api": "ftp://rabbit/api/"},
            r"Flower rejects `broker-api`: (invalid scheme|Invalid http api schema)",
        ),
        ({"certfile": "/etc/ssl/flower.pem"}, r"both `certfile` and `keyfile`"),
        ({"format_task": "x"}, r"Flower has no option `format_task`"),
    ],
)
def test_flower_rejects_bad_options(args, message):
    with pytest.raises(OptionError, match=message):
        line(args, backend=CeleryFlower)


def test_flower_refuses_words_it_would_ignore():
    with pytest.raises(OptionError, match=r"Flower takes options only.*got `5555`"):
        line({}, ["5555"], backend=CeleryFlower)


def test_flower_environment_variables_are_checked(monkeypatch):
    monkeypatch.setenv("FLOWER_PORT", "high")
    with pytest.raises(OptionError, match=r"Flower's \$FLOWER_PORT takes int, got 'high'"):
        line({}, backend=CeleryFlower)


# APP


def test_missing_app_says_what_to_set():
    with pytest.raises(ApplicationError) as caught:
        line({}, app=None)
    assert str(caught.value) == (
        "Process 'worker': CeleryWorker needs APP, the dotted path of your Celery "
        'application, e.g. "APP": "myproject.celery.app"'
    )
    assert caught.value.check_id == "prodserver.E009"


def test_missing_app_names_the_backend():
    with pytest.raises(ApplicationError, match=r"CeleryBeat needs APP"):
        line({}, backend=CeleryBeat, app=None)


def test_an_app_in_no_module():
    with pytest.raises(ApplicationError, match=r"APP 'nowhere.celery.app': there is no module"):
        line({}, app="nowhere.celery.app")


def test_an_app_the_module_lacks_names_the_apps_it_has():
    with pytest.raises(ApplicationError) as caught:
        line({}, app="exampleproject.celery.application")
    assert str(caught.value) == (
        "Process 'worker': APP 'exampleproject.celery.application': the module "
        "'exampleproject.celery' has no attribute 'application'. "
        "It has 'exampleproject.celery.app'."
    )


def test_an_app_that_is_not_a_celery_app_says_what_it_is():
    with pytest.raises(ApplicationError, match=r"APP 'exampleproject.settings.DEBUG' is a bool"):
        line({}, app="exampleproject.settings.DEBUG")


def test_a_module_without_a_celery_app():
    with pytest.raises(ApplicationError, match=r"the module 'jobs' has no Celery application"):
        line({}, app="jobs")


def test_an_app_whose_module_fails_to_import_says_why(tmp_path, monkeypatch):
    (tmp_path / "brokenapp.py").write_text("import celery\nraise RuntimeError('no config')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ApplicationError, match=r"failed with RuntimeError: no config \(at .*"):
        line({}, app="brokenapp.app")


def test_an_app_that_needs_a_missing_module_names_it(tmp_path, monkeypatch):
    (tmp_path / "needy.py").write_text("import not_installed_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ApplicationError, match=r"needs the module 'not_installed_anywhere'"):
        line({}, app="needy.app")


def test_manage_py_check_reports_a_missing_app():
    processes = {"worker": {"BACKEND": WORKER, "ARGS": {"concurrency": 2}}}
    # TASKS left at Django's default: no task waits for a worker (prodserver.W005).
    with override_settings(PRODUCTION_PROCESSES=processes, TASKS=None):
        errors = messages_in_depth()
    assert [error.id for error in errors] == ["prodserver.E009"]
    assert "CeleryWorker needs APP" in errors[0].msg


# Packages


def test_missing_celery_gives_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "celery", None)
    with pytest.raises(MissingPackageError) as caught:
        line({})
    assert str(caught.value) == (
        "Process 'worker' needs Celery, which is not installed.\n"
        "Install it with: pip install 'django-prodserver[celery]'"
    )


def test_missing_flower_gives_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "flower", None)
    with pytest.raises(MissingPackageError, match=r"pip install 'django-prodserver\[flower\]'"):
        line({}, backend=CeleryFlower)


def test_a_redis_broker_without_the_redis_package_gives_the_pip_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(MissingPackageError) as caught:
        line({"broker": "redis://:s3cret@127.0.0.1:6390/0"})
    assert str(caught.value) == (
        "Process 'worker': the Celery broker redis://:********@127.0.0.1:6390/0 needs the "
        "package 'redis', which is not installed.\n"
        "Install it with: pip install 'django-prodserver[celery]'"
    )


def test_a_broker_url_kombu_cannot_use():
    with pytest.raises(ProdserverError, match=r"the Celery broker URL nosuch://x cannot be used"):
        line({"broker": "nosuch://x"})


# The broker, checked right before a start


@pytest.fixture
def no_exec(monkeypatch):
    """If the broker check wrongly passed, run() would replace the test process."""

    def refuse(plan):
        raise AssertionError(f"would have started {plan.argv}")

    monkeypatch.setattr(celery_backends, "exec_plan", refuse)


def test_an_unreachable_broker_is_named_with_its_password_masked(no_exec):
    url = closed_port_url()
    backend = CeleryWorker(ProcessSpec("worker", WORKER, {"broker": url}, app=APP))
    with pytest.raises(ProdserverError) as caught:
        backend.run(backend.plan())
    message = str(caught.value)
    assert message.startswith(
        f"Process 'worker': cannot reach the Celery broker at "
        f"{url.replace('s3cret', '********')} (from `broker` in ARGS): "
    )
    assert "Connection refused" in message
    assert "Check that the broker is running" in message
    assert "s3cret" not in message


def test_the_broker_of_the_apps_settings_is_named_with_its_setting(no_exec, monkeypatch):
    url = closed_port_url()
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    app = load_app("worker", "CeleryWorker", APP)
    monkeypatch.setitem(app.conf, "broker_url", url)
    backend = CeleryBeat(ProcessSpec("beat", WORKER, {"schedule": "/tmp/s"}, app=APP))
    with pytest.raises(ProdserverError, match=r"\(from the app's CELERY_BROKER_URL\)"):
        backend.run(backend.plan())


def test_a_broker_that_never_answers_is_given_up_on_quickly():
    app = load_app("worker", "CeleryWorker", APP)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        started = time.monotonic()
        with pytest.raises(ProdserverError, match=r"cannot reach the Celery broker"):
            check_broker("worker", app, url, "a test")
        assert time.monotonic() - started < 15  # the probe's timeout is 2 s


def test_beats_schedule_folder_must_exist(no_exec, redis_url):
    args = {"broker": redis_url, "schedule": "/nonexistent-folder/celerybeat-schedule"}
    backend = CeleryBeat(ProcessSpec("beat", WORKER, args, app=APP))
    with pytest.raises(ProdserverError, match=r"the folder /nonexistent-folder does not exist"):
        backend.run(backend.plan())


def test_a_reachable_broker_lets_the_start_go_on(no_exec, redis_url):
    backend = CeleryWorker(ProcessSpec("worker", WORKER, {"broker": redis_url}, app=APP))
    with pytest.raises(AssertionError, match=r"would have started"):
        backend.run(backend.plan())
