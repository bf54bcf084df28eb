"""`prodserver --probe NAME` against real workers: 0 while the framework says the worker is alive
(a Celery ping to its node, RQ's heartbeat, db_worker's process), 1 once it is stopped."""

from __future__ import annotations

import socket
import time

import pytest

from tests.workers.test_celery import wait_for_output

pytestmark = pytest.mark.worker
CELERY = "django_prodserver.backends.celery.CeleryWorker"
RQ = "django_prodserver.backends.rq.RQWorker"
DB_WORKER = "django_prodserver.backends.django_tasks.DjangoTasksWorker"


def probe(project, name, env=None):
    return project.manage("prodserver", "--probe", name, env=env, timeout=60)


def probe_until_alive(project, name, process, env=None, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        result = probe(project, name, env)
        if result.returncode == 0 or time.monotonic() > deadline:
            return result
        assert process.popen.poll() is None, process.output
        time.sleep(0.5)


def test_a_celery_worker_answers_a_ping_to_its_own_node(make_project, started, redis_url):
    definition = {"BACKEND": CELERY, "APP": "exampleproject.celery.app"}
    project = make_project(
        {
            "worker": {**definition, "ARGS": {"concurrency": 1}},
            # Another node of the same broker: the ping goes to it alone.
            "other": {**definition, "ARGS": {"hostname": "other@%h"}},
        }
    )
    env = {"EXAMPLE_REDIS_URL": redis_url}
    worker = project.start("prodserver", "worker", env=env)
    started.append(worker)
    result = probe_until_alive(project, "worker", worker, env)
    assert result.returncode == 0, result.stderr + worker.output
    node = f"celery@{socket.gethostname()}"
    assert result.stdout == f"Process 'worker': the Celery worker {node} answered a ping.\n"

    other = probe(project, "other", env)
    assert other.returncode == 1
    assert f"the Celery worker other@{socket.gethostname()} did not answer" in other.stderr

    worker.stop()
    after = probe(project, "worker", env)
    assert after.returncode == 1
    assert f"the Celery worker {node} did not answer a ping within 5 s" in after.stderr


def test_an_rq_worker_has_a_fresh_heartbeat(make_project, started, redis_url):
    project = make_project({"rqworker": {"BACKEND": RQ, "ARGS": {"queues": ["default"]}}})
    env = {"EXAMPLE_REDIS_URL": redis_url}
    assert probe(project, "rqworker", env).returncode == 1  # none has started
    worker = project.start("prodserver", "rqworker", env=env)
    started.append(worker)
    wait_for_output(worker, "Listening on default")
    result = probe_until_alive(project, "rqworker", worker, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Process 'rqworker': the RQ worker ")
    assert f"(PID {worker.popen.pid}) beat " in result.stdout

    worker.stop()
    after = probe(project, "rqworker", env)
    assert after.returncode == 1
    assert "no RQ worker of queues default on" in after.stderr


def test_a_db_worker_is_alive_while_its_process_runs(make_project, started):
    pytest.importorskip("django_tasks_db")
    # A name no other test uses: the probe looks for the process by it.
    project = make_project({"probed-tasks": {"BACKEND": DB_WORKER, "ARGS": {"interval": 0.2}}})
    assert project.manage("migrate", "--verbosity=0").returncode == 0
    assert probe(project, "probed-tasks").returncode == 1
    worker = project.start("prodserver", "probed-tasks")
    started.append(worker)
    result = probe_until_alive(project, "probed-tasks", worker)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"Process 'probed-tasks': its process runs (PID {worker.popen.pid}); db_worker offers "
        f"no liveness check of its own.\n"
    )
    worker.stop()
    after = probe(project, "probed-tasks")
    assert after.returncode == 1
    assert after.stderr == (
        "CommandError: Process 'probed-tasks': no running process of it here (db_worker offers "
        "no liveness check of its own: the probe looks for its process).\n"
    )
