"""django-q2 through `prodserver`: a cluster on the test's SQLite (the ORM broker).

On SIGTERM to its main process (what Docker, Kubernetes and the exported systemd and
supervisor files send) or Ctrl-C, the cluster stops its pusher, lets each worker finish the
tasks it holds, then its sentinel, workers and monitor exit. A task whose worker is killed
stays in the queue and is delivered again after Q_CLUSTER's `retry` seconds.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.workers.effects import lines_of, wait_for_lines

pytest.importorskip("django_q")

WORKER = "django_prodserver.backends.django_q2.DjangoQ2Worker"
SLOW_TASK_SECONDS = 3
STOP_BOUND = SLOW_TASK_SECONDS + 20
# A cluster of two workers: its main process, the sentinel, the workers, pusher and monitor.
CLUSTER_PROCESSES = 6
RETRY = 6
CLUSTER = (
    'Q_CLUSTER = {"name": "tests", "orm": "default", "workers": 2, '
    f'"timeout": {RETRY - 1}, "retry": {RETRY}, "poll": 0.2, "guard_cycle": 0.2}}'
)

pytestmark = pytest.mark.worker


@pytest.fixture
def project(make_project):
    project = make_project({"qcluster": {"BACKEND": WORKER}}, CLUSTER)
    result = project.manage("migrate", "--verbosity=0")
    assert result.returncode == 0, result.stderr
    return project


def test_missing_tables_are_named_before_the_start(make_project):
    project = make_project({"qcluster": {"BACKEND": WORKER}}, CLUSTER)  # not migrated
    result = project.manage("prodserver", "qcluster")
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(
        "CommandError: Process 'qcluster': qcluster keeps its tasks in the database 'default', "
        "which lacks the tables of django_q: migrations django_q.0001_initial"
    )
    assert result.stderr.endswith("are not applied.\nApply them first: python manage.py migrate\n")


def enqueue(project, task, *args):
    """Queue a function of jobs.q2_tasks from a process of the project."""
    arguments = "".join(f", {arg!r}" for arg in args)
    code = f"from django_q.tasks import async_task\nasync_task('jobs.q2_tasks.{task}'{arguments})"
    project.shell(code)


def queue_state(project):
    """(tasks waiting in the queue, tasks saved as done successfully)."""
    code = (
        "from django_q.models import OrmQ, Success\n"
        "print('state', OrmQ.objects.count(), Success.objects.count())"
    )
    output = project.shell(code)
    row = next(line.split() for line in output.splitlines() if line.startswith("state "))
    return int(row[1]), int(row[2])


def start(project, started):
    cluster = project.start("prodserver", "qcluster")
    started.append(cluster)
    return cluster


def stop(cluster, how):
    """SIGTERM to the main process, or SIGINT to the whole group (Ctrl-C in a terminal)."""
    if how == "SIGTERM":
        return cluster.stop(signal.SIGTERM)
    begun = time.monotonic()
    os.killpg(cluster.popen.pid, signal.SIGINT)
    return cluster.popen.wait(60), time.monotonic() - begun


def test_runs_a_task_and_stops_on_sigterm(project, started, tmp_path):
    effects = tmp_path / "effects.txt"
    cluster = start(project, started)
    enqueue(project, "record_line", str(effects), "q2")

    wait_for_lines(effects, ["q2"], cluster)
    assert cluster.wait_for_process_count(CLUSTER_PROCESSES) == CLUSTER_PROCESSES
    code, seconds = cluster.stop(signal.SIGTERM)

    print(f"qcluster stopped {seconds:.2f} s after SIGTERM (idle)")
    assert code == 0, cluster.output
    assert seconds < STOP_BOUND, cluster.output
    assert cluster.wait_for_no_process_left() == []
    assert "has stopped." in cluster.output
    assert "Traceback" not in cluster.output


@pytest.mark.parametrize("stop_signal", ["SIGTERM", "SIGINT to the group"])
def test_a_stop_during_a_task_lets_it_finish(project, started, tmp_path, stop_signal):
    effects = tmp_path / "effects.txt"
    cluster = start(project, started)
    enqueue(project, "record_line_slowly", str(effects), "slow", SLOW_TASK_SECONDS)
    wait_for_lines(effects, ["slow started"], cluster)

    code, seconds = stop(cluster, stop_signal)

    print(f"qcluster stopped {seconds:.2f} s after {stop_signal}, a task running")
    assert code == 0, cluster.output
    assert seconds < STOP_BOUND, cluster.output
    assert cluster.wait_for_no_process_left() == []
    assert lines_of(effects) == ["slow started", "slow"], cluster.output
    assert queue_state(project) == (0, 1)
    assert "Traceback" not in cluster.output


def test_a_task_whose_cluster_is_killed_runs_again_after_retry(project, started, tmp_path):
    effects = tmp_path / "effects.txt"
    cluster = start(project, started)
    enqueue(project, "record_line_slowly", str(effects), "slow", SLOW_TASK_SECONDS)
    wait_for_lines(effects, ["slow started"], cluster)

    cluster.kill()  # what a platform does when the stop timeout runs out
    assert queue_state(project) == (1, 0)

    cluster = start(project, started)
    wait_for_lines(effects, ["slow"], cluster, timeout=RETRY + SLOW_TASK_SECONDS + 30)
    assert cluster.stop(signal.SIGTERM)[0] == 0
    assert lines_of(effects) == ["slow started", "slow started", "slow"]
    assert queue_state(project) == (0, 1)


def test_a_missing_q_cluster_stops_before_start(make_project):
    project = make_project({"qcluster": {"BACKEND": WORKER}}, "del Q_CLUSTER")
    result = project.manage("prodserver", "qcluster")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "reads its configuration from the Q_CLUSTER setting, which is not set" in result.stderr
    assert '"orm": "default"' in result.stderr


def test_a_sigterm_while_the_cluster_starts_is_a_clean_stop(project, started):
    """django-q2 1.10 (the last for Django 4.2) failed with a traceback and status 1 here."""
    cluster = start(project, started)
    deadline = time.monotonic() + 60
    while "starting." not in cluster.output:
        assert time.monotonic() < deadline, cluster.output
        time.sleep(0.01)
    code, _ = cluster.stop(signal.SIGTERM)
    assert code == 0, cluster.output
    assert "Traceback" not in cluster.output
    assert cluster.wait_for_no_process_left() == []
