"""`manage.py devserver` for real: a copy of the example project, its web process and a
database task worker (db_worker on SQLite, no broker), edited while they run."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import EXAMPLE, Project, Running, free_base_port, free_port, get
from tests.workers.effects import lines_of, wait_for_lines

pytest.importorskip("django_tasks_db")

pytestmark = pytest.mark.server

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
TASKS = "django_prodserver.backends.django_tasks.DjangoTasksWorker"
# The worker of TASKS["default"] (the example's database backend): db_worker too.
TASKS_WORKER = "django_prodserver.backends.tasks.TasksWorker"
BEAT = "django_prodserver.backends.celery.CeleryBeat"
HOME = "Hello from django-prodserver's example project.\n"
# The target (bench/devserver_reload.py) is under 2 s; the bound leaves room for a busy CI.
RELOAD_BOUND = 40.0
SLOW_TASK_SECONDS = 4
POLL = {"DJANGO_PRODSERVER_RELOADER": "poll"}


@dataclass
class CopiedProject(Project):
    """The example project copied into the test's folder, so that a test may edit its code."""

    example: Path = EXAMPLE

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = super().env()
        paths = env["PYTHONPATH"].split(os.pathsep)
        paths = [str(self.example) if path == str(EXAMPLE) else path for path in paths]
        # What the test run has on its path besides (watchfiles from elsewhere, say).
        paths += [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        env.update(extra or {})
        return env


@pytest.fixture
def copy_project(tmp_path: Path) -> Callable[..., CopiedProject]:
    def make(processes: dict[str, object]) -> CopiedProject:
        example = tmp_path / "example"
        ignore = shutil.ignore_patterns("__pycache__", "*.sqlite3", "*.txt")
        shutil.copytree(EXAMPLE, example, ignore=ignore)
        settings = (
            f"from exampleproject.settings import *  # noqa\nPRODUCTION_PROCESSES = {processes!r}\n"
        )
        (tmp_path / "test_settings.py").write_text(settings)
        project = CopiedProject(tmp_path, manage_py=example / "manage.py", example=example)
        result = project.manage("migrate", "--verbosity=0")
        assert result.returncode == 0, result.stderr
        return project

    return make


@pytest.fixture(autouse=True)
def kill_whole_session(started: list[Running]) -> Iterator[None]:
    """The runner's and the reloader's children have groups of their own: kill them too."""
    yield
    for running in started:
        for pid in running.session_pids():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def wait_for(condition: Callable[[], bool], timeout: float, what: str, running: Running) -> float:
    begun = time.monotonic()
    while not condition():
        if time.monotonic() - begun > timeout:
            raise AssertionError(f"no {what} after {timeout} s:\n{running.output}")
        if running.popen.poll() is not None:
            raise AssertionError(
                f"exited ({running.popen.returncode}) before {what}:\n{running.output}"
            )
        time.sleep(0.05)
    return time.monotonic() - begun


def page(address: str) -> str | None:
    """The home page's text; None while the server restarts."""
    try:
        return get(address)[1]
    except OSError:
        return None


def enqueue(project: Project, task: str, *args: object) -> None:
    arguments = ", ".join(repr(arg) for arg in args)
    project.shell(f"from jobs import database_tasks\ndatabase_tasks.{task}.enqueue({arguments})")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def worker_starts(running: Running) -> int:
    return running.output.count("Starting worker worker_id=")


def test_the_web_process_and_a_worker_run_together_and_reload_on_their_own(
    copy_project, started, tmp_path
):
    port = free_port()
    project = copy_project(
        {
            "web": {"BACKEND": GUNICORN, "ARGS": {"bind": f"0.0.0.0:{port}", "workers": 4}},
            "tasks": {
                "BACKEND": TASKS_WORKER,
                "ARGS": {"interval": 0.2, "no_startup_delay": True},
            },
            "beat": {"BACKEND": BEAT, "APP": "exampleproject.celery.app"},
        }
    )
    effects = tmp_path / "effects.txt"
    running = project.start("devserver")
    started.append(running)
    # gunicorn's port, on the loopback address, by runserver.
    assert running.wait_until_serving(f"127.0.0.1:{port}") == HOME
    wait_for(lambda: worker_starts(running) == 1, 60, "worker", running)
    output = running.output
    assert "Left out of development: beat (a scheduler, which must run once" in output
    assert f"web: http://127.0.0.1:{port}/, runserver in place of gunicorn (WSGI)" in output
    assert re.search(r"^\d\d:\d\d:\d\d tasks +\| \[devserver\] tasks restarts when", output, re.M)

    # A task in flight when its module changes finishes; one enqueued after runs the new code.
    enqueue(project, "record_line_slowly", str(effects), "slow", SLOW_TASK_SECONDS)
    wait_for_lines(effects, ["slow started"], running)
    edit(
        project.example / "jobs" / "database_tasks.py",
        "return record(path, text)\n\n\n@task()\ndef record_line_slowly",
        "return record(path, text + ' v2')\n\n\n@task()\ndef record_line_slowly",
    )
    wait_for(
        lambda: "database_tasks.py changed: restarting tasks" in running.output,
        30,
        "restart",
        running,
    )
    enqueue(project, "record_line", str(effects), "after")
    seconds = wait_for(lambda: "after v2" in lines_of(effects), RELOAD_BOUND, "new code", running)
    assert lines_of(effects) == ["slow started", "slow", "after v2"], running.output
    assert worker_starts(running) == 2
    print(f"a task enqueued after the restart ran the new code {seconds:.2f} s later")

    # runserver reloads the web process by itself.
    edit(project.example / "pages" / "views.py", "example project.\\n", "edited project.\\n")
    wait_for(
        lambda: page(f"127.0.0.1:{port}") == HOME.replace("example", "edited"),
        RELOAD_BOUND,
        "the edited page",
        running,
    )
    # Every .py file of the project is watched: the worker restarts too.
    wait_for(lambda: worker_starts(running) == 3, RELOAD_BOUND, "third worker", running)

    # Ctrl-C in a terminal: SIGINT to the whole foreground group.
    os.killpg(running.popen.pid, signal.SIGINT)
    assert running.popen.wait(60) == 0, running.output
    assert running.wait_for_no_process_left() == [], running.output
    assert "Traceback" not in running.output


def test_ten_files_saved_at_once_restart_the_worker_once_when_polling(
    copy_project, started, tmp_path
):
    project = copy_project({"tasks": {"BACKEND": TASKS, "ARGS": {"interval": 0.2}}})
    modules = [project.example / "jobs" / f"module_{number}.py" for number in range(10)]
    for module in modules:
        module.write_text("VALUE = 1\n")
    running = project.start("devserver", "tasks", env=POLL)
    started.append(running)
    wait_for(lambda: worker_starts(running) == 1, 60, "worker", running)
    assert "watching with polling every 0.5 s (DJANGO_PRODSERVER_RELOADER=poll)" in running.output

    # As an editor's "save all" or a checkout writes them: one after another, over more
    # than one poll of the files.
    for module in modules:
        module.write_text("VALUE = 2\n")
        time.sleep(0.06)
    wait_for(lambda: worker_starts(running) == 2, RELOAD_BOUND, "restarted worker", running)
    time.sleep(3)  # any second restart would come within a poll or two
    assert running.output.count("restarting tasks") == 1, running.output
    assert "module_0.py and 9 more changed: restarting tasks." in running.output
    assert worker_starts(running) == 2

    code, seconds = running.stop(signal.SIGTERM)
    assert code == 0, running.output
    assert seconds < 30, running.output
    assert running.wait_for_no_process_left() == [], running.output


def test_a_worker_that_fails_to_start_waits_for_the_fix(copy_project, started, tmp_path):
    project = copy_project({"tasks": {"BACKEND": TASKS, "ARGS": {"interval": 0.2}}})
    running = project.start("devserver", "tasks")
    started.append(running)
    wait_for(lambda: worker_starts(running) == 1, 60, "worker", running)
    broken = project.example / "jobs" / "database_tasks.py"
    original = broken.read_text()
    broken.write_text(original.replace("@task()", "@task(", 1))  # a syntax error
    # db_worker imports task modules only to run a task: the worker starts all the same.
    wait_for(lambda: worker_starts(running) == 2, RELOAD_BOUND, "restart", running)
    broken.write_text(original)
    wait_for(lambda: worker_starts(running) == 3, RELOAD_BOUND, "restart after the fix", running)
    effects = tmp_path / "effects.txt"
    enqueue(project, "record_line", str(effects), "fixed")
    wait_for_lines(effects, ["fixed"], running)
    code, _ = running.stop(signal.SIGINT)
    assert code == 0, running.output
    assert running.wait_for_no_process_left() == [], running.output


@pytest.mark.parametrize("arguments", [("PORT",), ("127.0.0.1:PORT", "--noreload")])
def test_devserver_with_runserver_arguments_is_runserver(copy_project, started, arguments):
    project = copy_project({"web": {"BACKEND": GUNICORN, "ARGS": {"bind": "127.0.0.1:1"}}})
    seen = []
    for command in ("runserver", "devserver"):
        port = free_port()
        running = project.start(command, *(word.replace("PORT", str(port)) for word in arguments))
        started.append(running)
        assert running.wait_until_serving(f"127.0.0.1:{port}") == HOME
        code, _ = running.stop(signal.SIGTERM)
        assert running.wait_for_no_process_left() == []
        seen.append((code, running.output.replace(str(port), "PORT")))
    # The same exit status and lines, but the dates and times.
    dates = r"\w+ \d\d, \d{4} - [\d:]+|\[\d\d/\w+/\d{4} [\d:]+\]"
    # The request's log line may be cut by the stop, in either: it is left out.
    runserver, devserver = [
        (code, re.sub(r"^DATE \"GET .*\n", "", re.sub(dates, "DATE", output), flags=re.M))
        for code, output in seen
    ]
    assert devserver == runserver
    assert re.search(r"Starting (WSGI )?development server at http://127.0.0.1:PORT/", devserver[1])


def test_devserver_takes_the_runners_options(copy_project, started, tmp_path):
    """--env-file (here .env beside manage.py), --port and --log-format, as prodserver's."""
    shutil.copy(
        Path(__file__).parents[1] / "runner" / "project_backends.py",
        tmp_path / "runner_backends.py",
    )
    project = copy_project(
        {
            "web": {"BACKEND": GUNICORN},
            "admin": {"BACKEND": GUNICORN},
            "show": {"BACKEND": "runner_backends.ShowEnvironment"},
        }
    )
    (project.example / ".env").write_text("GREETING=from-dot-env\nAPI_TOKEN=abc123\n")
    base = free_base_port()
    running = project.start("devserver", "--port", str(base), "--log-format", "json")
    started.append(running)
    assert running.wait_until_serving(f"127.0.0.1:{base}") == HOME
    assert running.wait_until_serving(f"127.0.0.1:{base + 100}") == HOME
    wait_for(lambda: "environ=from-dot-env" in running.output, 60, "the greeting", running)
    os.killpg(running.popen.pid, signal.SIGINT)
    assert running.popen.wait(60) == 0, running.output
    objects = [json.loads(line) for line in running.output.splitlines()]
    said = [item["line"] for item in objects if item["stream"] == "runner"]
    assert said[0].startswith("Environment files read: ")
    replaced = "runserver in place of gunicorn (WSGI), with its own reloader"
    assert f"  web: http://127.0.0.1:{base}/, {replaced}" in said
    assert f"  admin: http://127.0.0.1:{base + 100}/, {replaced}" in said
    assert "abc123" not in running.output

    dry = project.manage("devserver", "--dry-run", "--env-file", str(project.example / ".env"))
    assert dry.returncode == 0, dry.stderr
    assert "  API_TOKEN=********" in dry.stderr
    assert "abc123" not in dry.stdout + dry.stderr
