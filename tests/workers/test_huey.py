"""Huey through `prodserver`: real tasks on a Redis of the test's own, and a stop that loses none.

Huey's consumer stops gracefully on its "graceful signal" and interrupts running tasks on
the other one; a task taken from Redis and interrupted is gone. The backend makes SIGTERM
the graceful signal (`--graceful-signal=TERM`), so the SIGTERM of a deploy lets the task
in progress finish.
"""

from __future__ import annotations

import signal

import pytest

from tests.support import free_port
from tests.workers.effects import lines_of, wait_for_lines

HUEY = "django_prodserver.backends.huey.HueyConsumer"
SLOW_TASK_SECONDS = 3
STOP_BOUND = SLOW_TASK_SECONDS + 20

pytestmark = pytest.mark.worker


def huey_project(make_project, args=None, extra=""):
    return make_project({"huey": {"BACKEND": HUEY, "ARGS": args or {"workers": 1}}}, extra)


def call(project, redis_url, task, *args):
    """Call a task of jobs.huey_tasks (which enqueues it), from a process of the project."""
    arguments = ", ".join(repr(arg) for arg in args)
    code = f"from jobs import huey_tasks\nhuey_tasks.{task}({arguments})"
    project.shell(code, env={"EXAMPLE_REDIS_URL": redis_url})


def start(project, started, redis_url):
    worker = project.start("prodserver", "huey", env={"EXAMPLE_REDIS_URL": redis_url})
    started.append(worker)
    return worker


def test_runs_a_task_and_stops_on_sigterm(make_project, started, redis_url, tmp_path):
    project = huey_project(make_project)
    effects = tmp_path / "effects.txt"
    worker = start(project, started, redis_url)
    call(project, redis_url, "record_line", str(effects), "huey")

    wait_for_lines(effects, ["huey"], worker)
    code, seconds = worker.stop(signal.SIGTERM)

    print(f"huey stopped {seconds:.2f} s after SIGTERM (idle)")
    assert code == 0, worker.output
    assert seconds < STOP_BOUND, worker.output
    assert worker.wait_for_no_process_left() == []
    assert "+ jobs.huey_tasks.record_line" in worker.output
    assert "Shutting down gracefully" in worker.output
    assert "Traceback" not in worker.output


@pytest.mark.parametrize("worker_type", ["thread", "process"])
def test_sigterm_during_a_task_lets_it_finish_and_keeps_the_queued_one(
    make_project, started, redis_url, tmp_path, worker_type
):
    project = huey_project(make_project, {"workers": 1, "worker_type": worker_type})
    effects = tmp_path / "effects.txt"
    call(project, redis_url, "record_line_slowly", str(effects), "slow", SLOW_TASK_SECONDS)
    call(project, redis_url, "record_line", str(effects), "queued")
    worker = start(project, started, redis_url)
    wait_for_lines(effects, ["slow started"], worker)

    code, seconds = worker.stop(signal.SIGTERM)

    print(f"huey ({worker_type}) stopped {seconds:.2f} s after SIGTERM, a task running")
    assert code == 0, worker.output
    assert seconds < STOP_BOUND, worker.output
    assert worker.wait_for_no_process_left() == []
    assert lines_of(effects) == ["slow started", "slow"], worker.output
    assert "Received SIGTERM" in worker.output
    assert "All workers have stopped." in worker.output

    again = start(project, started, redis_url)
    wait_for_lines(effects, ["queued"], again)
    assert lines_of(effects) == ["slow started", "slow", "queued"]
    assert again.stop(signal.SIGTERM)[0] == 0, again.output
    assert again.wait_for_no_process_left() == []


def test_sigterm_to_hueys_own_command_loses_the_task(make_project, started, redis_url, tmp_path):
    """What the backend prevents: `run_huey` by itself takes SIGTERM as "interrupt now"."""
    project = huey_project(make_project)
    effects = tmp_path / "effects.txt"
    call(project, redis_url, "record_line_slowly", str(effects), "slow", SLOW_TASK_SECONDS)
    worker = project.start("run_huey", "--workers=1", env={"EXAMPLE_REDIS_URL": redis_url})
    started.append(worker)
    wait_for_lines(effects, ["slow started"], worker)

    worker.stop(signal.SIGTERM)

    assert worker.wait_for_no_process_left() == []
    assert lines_of(effects) == ["slow started"], worker.output
    assert "Shutting down gracefully" not in worker.output


def test_a_graceful_signal_other_than_the_stop_signal_is_refused(make_project, redis_url):
    project = huey_project(make_project, {"workers": 1, "graceful_signal": "INT"})

    result = project.manage("prodserver", "huey", env={"EXAMPLE_REDIS_URL": redis_url})

    assert result.returncode != 0
    assert "huey stops gracefully on SIGINT (graceful_signal in ARGS)" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreachable_redis_is_named_with_its_password_masked(make_project):
    project = huey_project(make_project)
    port = free_port()
    url = f"redis://:hunter2@127.0.0.1:{port}/0"

    result = project.manage("prodserver", "huey", env={"EXAMPLE_REDIS_URL": url})

    assert result.returncode != 0
    assert (
        f"Process 'huey': Huey cannot reach its Redis at "
        f"redis://:********@127.0.0.1:{port}/0" in result.stderr
    )
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_immediate_mode_is_refused_before_start(make_project):
    project = huey_project(make_project, extra='HUEY = {**HUEY, "immediate": True}')

    result = project.manage("prodserver", "huey")

    assert result.returncode != 0
    assert "Process 'huey': HUEY is in immediate mode" in result.stderr
    assert "Traceback" not in result.stderr
