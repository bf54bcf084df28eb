"""procrastinate through `prodserver`: real jobs in a PostgreSQL the test starts itself.

The worker runs the jobs of jobs/procrastinate_tasks.py; on SIGTERM it takes no new job,
lets the one it is running finish, and exits 0. A job not yet taken stays in the database.
"""

from __future__ import annotations

import signal

import pytest

from tests.workers.effects import lines_of, wait_for_lines

pytest.importorskip("procrastinate")
pytest.importorskip("psycopg")

pytestmark = pytest.mark.worker

WORKER = "django_prodserver.backends.procrastinate.ProcrastinateWorker"
SLOW_JOB_SECONDS = 3
STOP_BOUND = SLOW_JOB_SECONDS + 20


@pytest.fixture
def project(make_project, postgres):
    processes = {"procrastinate": {"BACKEND": WORKER, "ARGS": {"concurrency": 2}}}
    project = make_project(processes)
    env = {
        "EXAMPLE_POSTGRES_HOST": postgres["HOST"],
        "EXAMPLE_POSTGRES_PORT": postgres["PORT"],
        "EXAMPLE_POSTGRES_USER": postgres["USER"],
    }
    result = project.manage("migrate", "--verbosity=0", env=env)
    assert result.returncode == 0, result.stderr
    return project, env


def defer(project, env, task, **arguments):
    call = f"procrastinate_tasks.{task}.defer(**{arguments!r})"
    project.shell(f"from jobs import procrastinate_tasks\n{call}", env)


def statuses(project, env):
    code = (
        "from procrastinate.contrib.django.models import ProcrastinateJob\n"
        "print('statuses', sorted(j.status for j in ProcrastinateJob.objects.all()))"
    )
    output = project.shell(code, env)
    return next(line for line in output.splitlines() if line.startswith("statuses"))


def test_runs_a_job_and_lets_the_running_one_finish_on_sigterm(project, started, tmp_path):
    project, env = project
    effects = tmp_path / "effects.txt"
    worker = project.start("prodserver", "procrastinate", env=env)
    started.append(worker)

    defer(project, env, "record_line", path=str(effects), text="first")
    wait_for_lines(effects, ["first"], worker, timeout=60)
    defer(project, env, "record_line_slowly", path=str(effects), text="slow", seconds=3)
    wait_for_lines(effects, ["slow started"], worker, timeout=60)
    code, seconds = worker.stop(signal.SIGTERM)

    print(f"procrastinate worker stopped {seconds:.2f} s after SIGTERM, a job running")
    assert code == 0, worker.output
    assert seconds < STOP_BOUND, worker.output
    assert worker.wait_for_no_process_left() == [], worker.output
    assert lines_of(effects) == ["first", "slow started", "slow"], worker.output
    assert statuses(project, env) == "statuses ['succeeded', 'succeeded']"
    assert "Traceback" not in worker.output


def test_sqlite_is_refused_before_the_start(make_project):
    project = make_project(
        {"procrastinate": {"BACKEND": WORKER}},
        extra='INSTALLED_APPS += ["procrastinate.contrib.django"]',
    )
    result = project.manage("prodserver", "procrastinate")
    assert result.returncode == 1
    assert (
        "?: (prodserver.E010) Process 'procrastinate': procrastinate keeps its jobs in "
        "PostgreSQL, and the database 'default' is django.db.backends.sqlite3.\n"
        "Point DATABASES['default'] (or PROCRASTINATE_DATABASE_ALIAS) at a PostgreSQL "
        "database.\n"
    ) in result.stderr
    assert "Traceback" not in result.stderr
