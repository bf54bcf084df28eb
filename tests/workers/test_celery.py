"""Celery through `prodserver`: real tasks on a Redis of the test's own, beat, Flower, stops.

On SIGTERM Celery's worker makes a warm shutdown: it takes no new task, lets the tasks in
progress finish, and exits 0 with its pool's children gone.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.brokers import redis_server
from tests.support import Running, free_port
from tests.workers.effects import lines_of, wait_for_lines

APP = "exampleproject.celery.app"
WORKER = "django_prodserver.backends.celery.CeleryWorker"
BEAT = "django_prodserver.backends.celery.CeleryBeat"
FLOWER = "django_prodserver.backends.celery.CeleryFlower"
SLOW_TASK_SECONDS = 3
# Idle, a worker stops in about 2-3 s here; with a task running, once it is done. Bounds
# are several times that.
STOP_BOUND = 20
SLOW_STOP_BOUND = SLOW_TASK_SECONDS + STOP_BOUND

pytestmark = pytest.mark.worker


def worker_definition(**args):
    return {"BACKEND": WORKER, "APP": APP, "ARGS": {"loglevel": "info", **args}}


def start(project, started, name, redis_url, *args, env=None):
    process = project.start(
        "prodserver", name, *args, env={"EXAMPLE_REDIS_URL": redis_url, **(env or {})}
    )
    started.append(process)
    return process


def wait_for_output(process, text, timeout=60):
    deadline = time.monotonic() + timeout
    while text not in process.output:
        if process.popen.poll() is not None:
            raise AssertionError(f"exited with {process.popen.returncode}:\n{process.output}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not in the output after {timeout} s:\n{process.output}")
        time.sleep(0.05)


def send_task(redis_url, name, *args):
    """Enqueue a task by name, as any client of the same broker would."""
    from celery import Celery

    client = Celery("test-client", broker=redis_url)
    try:
        client.send_task(name, args=list(args))
    finally:
        client.close()


def test_runs_a_task_and_stops_on_sigterm(make_project, started, redis_url, tmp_path):
    project = make_project({"worker": worker_definition(concurrency=2)})
    effects = tmp_path / "effects.txt"
    worker = start(project, started, "worker", redis_url)
    send_task(redis_url, "jobs.celery_tasks.record_line", str(effects), "celery")

    wait_for_lines(effects, ["celery"], worker, timeout=60)
    # The process prodserver started is Celery's worker itself (same PID, no wrapper).
    cmdline = Path(f"/proc/{worker.popen.pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[1:6] == [b"-m", b"celery", b"-A", APP.encode(), b"worker"]
    assert len(worker.session_pids()) == 3  # the main process and a pool of 2
    code, seconds = worker.stop(signal.SIGTERM)

    print(f"celery worker stopped {seconds:.2f} s after SIGTERM (idle)")
    assert code == 0, worker.output
    assert seconds < STOP_BOUND
    assert worker.wait_for_no_process_left() == []
    assert "celery@" in worker.output
    assert "Warm shutdown" in worker.output
    assert "Traceback" not in worker.output


def test_a_broker_password_is_in_the_workers_environment_not_its_command_line(
    make_project, started, tmp_path
):
    password = "s3cret-planted"
    (tmp_path / "redis").mkdir()
    with redis_server(tmp_path / "redis", password=password) as url:
        project = make_project({"worker": worker_definition(concurrency=1, broker=url)})
        dry_run = project.manage("prodserver", "worker", "--dry-run")
        assert password not in dry_run.stdout + dry_run.stderr
        assert "CELERY_BROKER_URL in the environment rather than on the command line" in (
            dry_run.stdout
        )
        effects = tmp_path / "effects.txt"
        worker = start(project, started, "worker", "redis://127.0.0.1:1/0")
        send_task(url, "jobs.celery_tasks.record_line", str(effects), "with a password")

        wait_for_lines(effects, ["with a password"], worker, timeout=60)
        for pid in worker.session_pids():
            assert password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
        code, _ = worker.stop(signal.SIGTERM)
    assert code == 0, worker.output
    assert password not in worker.output


def test_a_task_in_progress_finishes_before_the_worker_exits(
    make_project, started, redis_url, tmp_path
):
    project = make_project({"worker": worker_definition(concurrency=1)})
    effects = tmp_path / "effects.txt"
    worker = start(project, started, "worker", redis_url)
    send_task(
        redis_url, "jobs.celery_tasks.record_line_slowly", str(effects), "slow", SLOW_TASK_SECONDS
    )
    wait_for_lines(effects, ["slow: started"], worker, timeout=60)

    code, seconds = worker.stop(signal.SIGTERM)

    print(f"celery worker stopped {seconds:.2f} s after SIGTERM (a {SLOW_TASK_SECONDS} s task)")
    assert lines_of(effects) == ["slow: started", "slow: done"], worker.output
    assert code == 0, worker.output
    assert seconds < SLOW_STOP_BOUND
    assert worker.wait_for_no_process_left() == []
    assert "succeeded" in worker.output


def test_starts_from_another_working_directory(make_project, started, redis_url, tmp_path):
    """`python -m celery` must import the project from manage.py's folder, as manage.py does."""
    project = make_project({"worker": worker_definition(concurrency=1)})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = project.env({"EXAMPLE_REDIS_URL": redis_url, "PYTHONPATH": str(project.directory)})
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        popen = subprocess.Popen(
            [sys.executable, str(project.manage_py), "prodserver", "worker"],
            cwd=elsewhere,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Running(popen, log)
    started.append(worker)

    wait_for_output(worker, "ready.")
    code, _ = worker.stop(signal.SIGTERM)
    assert code == 0, worker.output


def test_a_task_waiting_in_the_worker_goes_back_to_the_queue(
    make_project, started, redis_url, tmp_path
):
    """The worker had already fetched the second task when it was stopped: none is lost."""
    project = make_project({"worker": worker_definition(concurrency=1)})
    effects = tmp_path / "effects.txt"
    worker = start(project, started, "worker", redis_url)
    send_task(
        redis_url, "jobs.celery_tasks.record_line_slowly", str(effects), "slow", SLOW_TASK_SECONDS
    )
    send_task(redis_url, "jobs.celery_tasks.record_line", str(effects), "waiting")
    wait_for_lines(effects, ["slow: started"], worker, timeout=60)
    wait_for_output(worker, "jobs.celery_tasks.record_line[")  # fetched, not started

    code, _ = worker.stop(signal.SIGTERM)
    assert code == 0, worker.output
    assert lines_of(effects) == ["slow: started", "slow: done"], worker.output

    next_worker = start(project, started, "worker", redis_url)
    wait_for_lines(effects, ["waiting"], next_worker, timeout=60)
    next_worker.stop(signal.SIGTERM)
    assert lines_of(effects) == ["slow: started", "slow: done", "waiting"]


def test_beat_sends_a_periodic_task_every_second(make_project, started, redis_url, tmp_path):
    schedule = tmp_path / "beat" / "schedule"
    schedule.parent.mkdir()
    project = make_project(
        {
            "worker": worker_definition(concurrency=1),
            "beat": {"BACKEND": BEAT, "APP": APP, "ARGS": {"schedule": str(schedule)}},
        }
    )
    effects = tmp_path / "beat-effects.txt"
    env = {"EXAMPLE_BEAT_SECONDS": "1", "EXAMPLE_BEAT_EFFECTS": str(effects)}
    worker = start(project, started, "worker", redis_url, env=env)
    beat = start(project, started, "beat", redis_url, "--loglevel=info", env=env)

    deadline = time.monotonic() + 60
    while lines_of(effects).count("beat") < 2 and time.monotonic() < deadline:
        assert beat.popen.poll() is None, beat.output
        time.sleep(0.1)
    assert lines_of(effects).count("beat") >= 2, f"{beat.output}\n{worker.output}"
    assert set(lines_of(effects)) == {"beat"}

    code, seconds = beat.stop(signal.SIGTERM)
    print(f"celery beat stopped {seconds:.2f} s after SIGTERM")
    assert code == 0, beat.output
    assert seconds < STOP_BOUND
    assert beat.wait_for_no_process_left() == []
    assert any(path.name.startswith("schedule") for path in schedule.parent.iterdir())
    assert "Sending due task record-beat" in beat.output
    code, _ = worker.stop(signal.SIGTERM)
    assert code == 0
    assert worker.wait_for_no_process_left() == []


def test_flower_serves_its_ui_and_stops_on_sigterm(make_project, started, redis_url, tmp_path):
    port = free_port()
    args = {"port": port, "address": "127.0.0.1", "db": str(tmp_path / "flower")}
    project = make_project({"flower": {"BACKEND": FLOWER, "APP": APP, "ARGS": args}})
    flower = start(project, started, "flower", redis_url)

    body = flower.wait_until_serving(f"127.0.0.1:{port}", "/workers")
    assert "Flower" in body
    code, seconds = flower.stop(signal.SIGTERM)

    print(f"flower stopped {seconds:.2f} s after SIGTERM")
    assert code == 0, flower.output
    assert seconds < STOP_BOUND
    assert flower.wait_for_no_process_left() == []


def test_an_unreachable_broker_stops_the_start_with_its_password_masked(make_project):
    project = make_project({"worker": worker_definition()})
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"

    started = time.monotonic()
    result = project.manage("prodserver", "worker", env={"EXAMPLE_REDIS_URL": url})

    assert result.returncode != 0
    assert time.monotonic() - started < 30
    assert (
        f"CommandError: Process 'worker': cannot reach the Celery broker at "
        f"redis://:********@127.0.0.1:{url.rsplit(':', 1)[1]} (from the app's CELERY_BROKER_URL)"
    ) in result.stderr
    assert "s3cret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_the_dry_run_needs_no_broker(make_project):
    project = make_project({"worker": worker_definition(concurrency=4)})
    url = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    result = project.manage(
        "prodserver", "worker", "--dry-run", "--concurrency=8", env={"EXAMPLE_REDIS_URL": url}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"celery -A {APP} worker --loglevel=info --concurrency=8\n"


def test_a_missing_app_fails_check_and_start(make_project):
    project = make_project({"worker": {"BACKEND": WORKER, "ARGS": {"concurrency": 2}}})
    message = (
        "Process 'worker': CeleryWorker needs APP, the dotted path of your Celery "
        'application, e.g. "APP": "myproject.celery.app"'
    )

    check = project.manage("check")
    start_result = project.manage("prodserver", "worker")

    assert check.returncode != 0
    assert f"(prodserver.E009) {message}" in check.stderr
    assert start_result.returncode != 0
    assert f"(prodserver.E009) {message}" in start_result.stderr
    assert "Traceback" not in start_result.stderr


def test_a_wrong_app_names_what_was_found(make_project):
    project = make_project(
        {"worker": {"BACKEND": WORKER, "APP": "exampleproject.celery.application"}}
    )
    result = project.manage("prodserver", "worker")
    assert result.returncode != 0
    assert (
        "(prodserver.E009) Process 'worker': APP 'exampleproject.celery.application': the module "
        "'exampleproject.celery' has no attribute 'application'. It has "
        "'exampleproject.celery.app'."
    ) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("package", "backend", "extra"), [("celery", WORKER, "celery"), ("flower", FLOWER, "flower")]
)
def test_a_missing_package_gives_the_pip_line(make_project, package, backend, extra):
    project = make_project({"proc": {"BACKEND": backend, "APP": APP}})
    result = project.manage_without(package, "prodserver", "proc", "--dry-run")
    assert result.returncode != 0
    assert f"Install it with: pip install 'django-prodserver[{extra}]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_legacy_workers_path_starts_the_same_line(make_project):
    project = make_project(
        {
            "worker": {
                "BACKEND": "django_prodserver.backends.workers.celery.CeleryWorker",
                "APP": APP,
                "ARGS": {"concurrency": "4"},
            }
        }
    )
    result = project.manage("prodserver", "worker", "--dry-run")
    assert result.stdout == f"celery -A {APP} worker --concurrency=4\n", result.stderr


def test_a_package_the_broker_transport_imports_is_named_with_its_pip_line(make_project):
    """kombu's Redis transport imports `packaging`: missing, it was "cannot be used"."""
    project = make_project({"worker": worker_definition()})
    result = project.manage_without("packaging", "prodserver", "worker", "--dry-run")
    assert result.returncode != 0
    assert "(prodserver.E007) Process 'worker': the Celery broker redis://" in result.stderr
    assert (
        "needs the package 'packaging', which is not installed.\n"
        "Install it with: pip install packaging"
    ) in result.stderr
    assert "Traceback" not in result.stderr
