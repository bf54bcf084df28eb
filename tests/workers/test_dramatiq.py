"""Dramatiq through `prodserver`: real messages on a Redis of the test's own, graceful stop.

rundramatiq execs `dramatiq` in the same process. On SIGTERM dramatiq's main process tells
its worker processes to stop: each finishes the messages it is running (for up to
--worker-shutdown-timeout) and puts the ones it had fetched but not started back on Redis.
"""

from __future__ import annotations

import signal

import pytest

from tests.support import free_port
from tests.workers.effects import lines_of, wait_for_lines

DRAMATIQ = "django_prodserver.backends.dramatiq.DramatiqWorker"
SLOW_MESSAGE_SECONDS = 3
# Dramatiq's worker process checks for a stop once a second, its main process joins its
# workers once a second: the target is the slow message plus about 2 s.
STOP_BOUND = SLOW_MESSAGE_SECONDS + 20

pytestmark = pytest.mark.worker


def dramatiq_project(make_project, args=None):
    args = args or {"processes": 1, "threads": 1, "worker_shutdown_timeout": 25000}
    return make_project({"dramatiq": {"BACKEND": DRAMATIQ, "ARGS": args}})


def send(project, redis_url, actor, *args):
    """Send a message to an actor of jobs.dramatiq_tasks, from a process of the project."""
    arguments = ", ".join(repr(arg) for arg in args)
    code = f"from jobs import dramatiq_tasks\ndramatiq_tasks.{actor}.send({arguments})"
    project.shell(code, env={"EXAMPLE_REDIS_URL": redis_url})


def start(project, started, redis_url):
    worker = project.start("prodserver", "dramatiq", env={"EXAMPLE_REDIS_URL": redis_url})
    started.append(worker)
    return worker


def test_runs_a_message_and_stops_on_sigterm(make_project, started, redis_url, tmp_path):
    project = dramatiq_project(make_project)
    effects = tmp_path / "effects.txt"
    worker = start(project, started, redis_url)
    send(project, redis_url, "record_line", str(effects), "dramatiq")

    wait_for_lines(effects, ["dramatiq"], worker)
    main_pid = worker.popen.pid
    code, seconds = worker.stop(signal.SIGTERM)

    print(f"dramatiq stopped {seconds:.2f} s after SIGTERM (idle)")
    assert code == 0, worker.output
    assert seconds < STOP_BOUND, worker.output
    assert worker.wait_for_no_process_left() == []
    # rundramatiq became dramatiq's main process: the PID that got SIGTERM is dramatiq's.
    assert f"[PID {main_pid}] [MainThread] [dramatiq.MainProcess]" in worker.output
    assert "Discovered tasks module: 'jobs.dramatiq_tasks'" in worker.output
    assert "Traceback" not in worker.output


def test_sigterm_during_a_message_lets_it_finish_and_requeues_the_fetched_one(
    make_project, started, redis_url, tmp_path
):
    project = dramatiq_project(make_project)
    effects = tmp_path / "effects.txt"
    send(project, redis_url, "record_line_slowly", str(effects), "slow", SLOW_MESSAGE_SECONDS)
    send(project, redis_url, "record_line", str(effects), "queued")
    worker = start(project, started, redis_url)
    wait_for_lines(effects, ["slow started"], worker)

    code, seconds = worker.stop(signal.SIGTERM)

    print(f"dramatiq stopped {seconds:.2f} s after SIGTERM, a {SLOW_MESSAGE_SECONDS} s message ran")
    assert code == 0, worker.output
    assert seconds < STOP_BOUND, worker.output
    assert worker.wait_for_no_process_left() == []
    assert lines_of(effects) == ["slow started", "slow"], worker.output

    # The second message (prefetched by the busy worker and put back, or never fetched)
    # is still on Redis: the next worker runs it.
    again = start(project, started, redis_url)
    wait_for_lines(effects, ["queued"], again)
    assert lines_of(effects) == ["slow started", "slow", "queued"]
    assert again.stop(signal.SIGTERM)[0] == 0, again.output
    assert again.wait_for_no_process_left() == []


def test_an_unreachable_redis_is_named_with_its_password_masked(make_project):
    project = dramatiq_project(make_project)
    port = free_port()
    url = f"redis://:hunter2@127.0.0.1:{port}/0"

    result = project.manage("prodserver", "dramatiq", env={"EXAMPLE_REDIS_URL": url})

    assert result.returncode != 0
    assert (
        f"Process 'dramatiq': Dramatiq cannot reach its Redis at "
        f"redis://:********@127.0.0.1:{port}/0" in result.stderr
    )
    assert "hunter2" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
