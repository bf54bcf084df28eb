"""`prodserver NAME NAME...` and `--all`: real processes, supervised by the runner."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from tests.support import Project, Running, free_port, get, request_in_flight

pytestmark = pytest.mark.server

GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
WAITRESS = "django_prodserver.backends.waitress.WaitressServer"
TASKS = "django_prodserver.backends.django_tasks.DjangoTasksWorker"
BACKENDS = "runner_backends"
GREETING_SETTING = 'import os\nGREETING_AT_IMPORT = os.environ.get("GREETING")'


@pytest.fixture
def project(make_project: Callable[..., Project]) -> Callable[..., Project]:
    """A project with these processes and the test backends as `runner_backends`."""

    def make(processes: dict[str, Any], extra: str = "") -> Project:
        made = make_project(processes, extra)
        shutil.copy(
            Path(__file__).with_name("project_backends.py"), made.directory / "runner_backends.py"
        )
        return made

    return make


def backend(name: str, **definition: Any) -> dict[str, Any]:
    return {"BACKEND": f"{BACKENDS}.{name}", **definition}


def wait_for(condition: Callable[[], bool], timeout: float, what: str, running: Running) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s:\n{running.output}")
        time.sleep(0.05)


def started_pids(running: Running, name: str) -> list[int]:
    return [int(pid) for pid in re.findall(rf"\| {name} started \(pid (\d+)\)", running.output)]


def test_two_web_servers_and_a_worker_answer_and_a_killed_one_comes_back(
    project: Callable[..., Project], started: list[Running], tmp_path: Path
) -> None:
    web, admin = free_port(), free_port()
    made = project(
        {
            "web": {"BACKEND": GUNICORN, "ARGS": {"bind": f"127.0.0.1:{web}", "workers": 2}},
            "admin": {"BACKEND": WAITRESS, "ARGS": {"listen": f"127.0.0.1:{admin}"}},
            "tasks": {"BACKEND": TASKS, "ARGS": {"interval": 0.2}},
        }
    )
    assert made.manage("migrate", "-v", "0").returncode == 0
    running = made.start("prodserver", "web", "admin", "tasks")
    started.append(running)
    running.wait_until_serving(f"127.0.0.1:{web}")
    running.wait_until_serving(f"127.0.0.1:{admin}")

    effect = tmp_path / "effect.txt"
    enqueue = (
        f"from jobs.database_tasks import record_line; record_line.enqueue({str(effect)!r}, 'done')"
    )
    made.shell(enqueue)
    wait_for(effect.exists, 30, "task run by the worker", running)
    assert effect.read_text() == "done\n"

    [first_web] = started_pids(running, "web")
    killed_at = time.monotonic()
    os.kill(first_web, signal.SIGKILL)
    wait_for(lambda: len(started_pids(running, "web")) == 2, 10, "new web", running)
    running.wait_until_serving(f"127.0.0.1:{web}", timeout=10)
    back_after = time.monotonic() - killed_at
    assert back_after < 10, running.output  # the target is 2 s; the bound leaves room
    assert get(f"127.0.0.1:{admin}")[0] == 200
    assert started_pids(running, "admin") == started_pids(running, "admin")[:1]
    assert "web was killed by SIGKILL" in running.output

    output = running.output
    assert re.search(r"^\d\d:\d\d:\d\d web +\| .*Listening at", output, re.MULTILINE)
    assert re.search(r"^\d\d:\d\d:\d\d admin +\| .*Serving on", output, re.MULTILINE)
    assert "\x1b[" not in output  # not a terminal: no colour
    code, _ = running.stop()
    assert code == 0, running.output
    assert running.wait_for_no_process_left() == []
    print(f"killed web answered again after {back_after:.2f} s")


def test_sigterm_lets_a_slow_request_finish_and_leaves_nothing_behind(
    project: Callable[..., Project], started: list[Running], tmp_path: Path
) -> None:
    web, admin = free_port(), free_port()
    made = project(
        {
            "web": {"BACKEND": GUNICORN, "ARGS": {"bind": f"127.0.0.1:{web}", "workers": 2}},
            "admin": {"BACKEND": GUNICORN, "ARGS": {"bind": f"127.0.0.1:{admin}"}},
        }
    )
    running = made.start("prodserver", "--all")
    started.append(running)
    running.wait_until_serving(f"127.0.0.1:{web}")
    running.wait_until_serving(f"127.0.0.1:{admin}")
    # Two gunicorn processes: a control socket each, not one shared path.
    for name in ("web", "admin"):
        socket = made.directory / f"prodserver-{name}" / "gunicorn.ctl"
        line = f"Control socket listening at {socket}"
        # Called before the loop goes on: the late binding of `line` does not matter.
        wait_for(lambda: line in running.output, 10, line, running)  # noqa: B023

    # A reload replaces both: each new gunicorn has its control socket where the old one had.
    running.popen.send_signal(signal.SIGHUP)
    wait_for(lambda: "Reload done: 2 processes" in running.output, 60, "reload", running)
    wait_for(lambda: running.output.count("replaced) exited") == 2, 60, "old ones", running)
    for name in ("web", "admin"):
        assert (made.directory / f"prodserver-{name}" / "gunicorn.ctl").is_socket(), name

    thread, outcome = request_in_flight(f"127.0.0.1:{web}", seconds=2)
    code, _ = running.stop()
    thread.join(30)
    assert outcome == [(200, "slept 2.0\n")], running.output
    assert code == 0, running.output
    assert running.wait_for_no_process_left() == []
    assert "web exited with status 0" in running.output


def test_a_crash_loop_backs_off_and_says_so(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project(
        {
            "crash": backend("Crash"),
            "steady": backend("ShowEnvironment"),
        }
    )
    running = made.start("prodserver", "crash", "steady")
    started.append(running)

    def delays() -> list[float]:
        found = re.findall(
            r"crash exited with status 1 .*Starting it again in ([\d.]+) s", running.output
        )
        return [float(delay) for delay in found]

    wait_for(lambda: len(delays()) >= 5, 60, "five restarts", running)
    found = delays()
    assert found == sorted(found), found  # below the cap no delay is shorter than the one before
    assert found[4] >= 4 * found[0], found
    assert "It keeps ending: 5 times in a row." in running.output
    # Nothing is left of a process that ended by itself (its watchdog is not of its group).
    assert "Killed what was left" not in running.output
    assert len(started_pids(running, "steady")) == 1
    code, _ = running.stop()
    assert code == 0, running.output
    assert running.wait_for_no_process_left() == []


def test_100000_lines_from_two_processes_arrive_whole(
    project: Callable[..., Project], started: list[Running]
) -> None:
    count = 50_000
    made = project(
        {
            "one": backend("NumberedLines", ARGS={"count": count}, RESTART="never"),
            "second": backend("NumberedLines", ARGS={"count": count, "width": 90}, RESTART="never"),
        }
    )
    running = made.start("prodserver", "one", "second")
    started.append(running)
    assert running.popen.wait(120) == 0, running.output[-3000:]

    line = re.compile(r"^\d\d:\d\d:\d\d (\w+) +\| (\w+) (\d{7}) (x*)$")
    numbers: dict[str, list[int]] = {"one": [], "second": []}
    ends = []
    for text in running.output.splitlines():
        if text.endswith("end without newline"):
            ends.append(text)
            continue
        if text[9:19] == "prodserver":
            continue
        match = line.match(text)
        assert match, f"not a whole line: {text[:200]!r}"
        prefix, name, number, padding = match.groups()
        assert prefix == name
        expected = 200_000 if int(number) == count // 2 else (60 if name == "one" else 90)
        assert len(name) + 9 + len(padding) == expected, f"{name} {number} cut"
        numbers[name].append(int(number))
    assert numbers == {"one": list(range(count)), "second": list(range(count))}
    assert sorted(end.split("| ")[1] for end in ends) == [
        "one end without newline",
        "second end without newline",
    ]


def test_env_reaches_the_process_together_and_alone(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project(
        {
            "show": backend("ShowEnvironment", ENV={"GREETING": "hello"}, ARGS={"wait": 0}),
            "other": backend("ShowEnvironment", ARGS={"wait": 0}),
        },
        extra=GREETING_SETTING,
    )
    alone = made.manage("prodserver", "show")
    assert alone.returncode == 0, alone.stderr
    assert "settings=hello environ=hello" in alone.stdout

    dry_run = made.manage("prodserver", "show", "--dry-run")
    assert dry_run.stdout.strip() == "GREETING=hello showenvironment"

    running = made.start("prodserver", "show", "other")
    started.append(running)
    assert running.popen.wait(60) == 0, running.output
    assert re.search(r"show +\| pid=\d+ settings=hello environ=hello", running.output)
    assert re.search(r"other +\| pid=\d+ settings=None environ=None", running.output)


def test_env_applied_alone_keeps_the_pid(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project({"show": backend("ShowEnvironment", ENV={"GREETING": "hi"})}, GREETING_SETTING)
    running = made.start("prodserver", "show")
    started.append(running)
    wait_for(lambda: "pid=" in running.output, 30, "output", running)
    assert f"pid={running.popen.pid} settings=hi environ=hi" in running.output
    code, _ = running.stop()
    assert code == 0


def test_stop_timeout_kills_a_process_that_ignores_sigterm(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project(
        {
            "stubborn": backend("Stubborn", STOP_TIMEOUT=1),
            "steady": backend("ShowEnvironment"),
        }
    )
    running = made.start("prodserver", "--all")
    started.append(running)
    wait_for(lambda: "ignoring SIGTERM" in running.output, 30, "start", running)
    code, seconds = running.stop()
    assert code == 0, running.output
    assert seconds < 10, running.output  # STOP_TIMEOUT is 1 s
    assert "stubborn did not stop within 1 s (STOP_TIMEOUT)" in running.output
    assert running.wait_for_no_process_left() == []


def test_a_second_sigterm_kills_at_once(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project({"stubborn": backend("Stubborn", STOP_TIMEOUT=300), "b": backend("Stubborn")})
    running = made.start("prodserver", "--all")
    started.append(running)
    wait_for(lambda: running.output.count("ignoring SIGTERM") == 2, 30, "start", running)
    running.popen.send_signal(signal.SIGTERM)
    wait_for(lambda: "which has 300 s to stop" in running.output, 10, "stopping", running)
    code, seconds = running.stop()
    assert code == 0, running.output
    assert seconds < 10, running.output
    assert "SIGTERM received again: killing stubborn" in running.output
    assert running.wait_for_no_process_left() == []


def test_processes_stop_when_the_runner_is_killed_by_sigkill(
    project: Callable[..., Project], started: list[Running]
) -> None:
    web = free_port()
    made = project(
        {
            "web": {"BACKEND": GUNICORN, "ARGS": {"bind": f"127.0.0.1:{web}", "workers": 2}},
            "tasks": {"BACKEND": TASKS, "ARGS": {"interval": 0.2}},
        }
    )
    assert made.manage("migrate", "-v", "0").returncode == 0
    running = made.start("prodserver", "web", "tasks")
    started.append(running)
    running.wait_until_serving(f"127.0.0.1:{web}")
    # The runner, its watchdog (lifecycle/watchdog.py), gunicorn and its 2 workers, tasks.
    wait_for(lambda: len(running.session_pids()) == 6, 30, "6 processes", running)

    running.popen.kill()
    running.popen.wait(10)

    assert running.wait_for_no_process_left(timeout=30) == []
    with pytest.raises(ConnectionRefusedError):
        get(f"127.0.0.1:{web}", timeout=2)


def test_a_process_that_ignores_sigterm_is_killed_after_stop_timeout_when_the_runner_is_killed(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project(
        {"stubborn": backend("Stubborn", STOP_TIMEOUT=3), "steady": backend("ShowEnvironment")}
    )
    running = made.start("prodserver", "--all")
    started.append(running)
    wait_for(lambda: "ignoring SIGTERM" in running.output, 30, "start", running)
    [stubborn] = started_pids(running, "stubborn")
    [steady] = started_pids(running, "steady")

    running.popen.kill()
    killed_at = time.monotonic()
    running.popen.wait(10)
    # steady stops on the SIGTERM that Linux sends it; stubborn ignores it and is given
    # its STOP_TIMEOUT, as the runner would have given it.
    wait_for(lambda: not alive(steady), 10, "steady stopped", running)
    assert alive(stubborn), "killed before its STOP_TIMEOUT"
    wait_for(lambda: not alive(stubborn), 3 + 15, "stubborn killed", running)
    gone_after = time.monotonic() - killed_at
    assert gone_after >= 2.5, gone_after  # not before its STOP_TIMEOUT
    assert running.wait_for_no_process_left() == []
    print(f"stubborn (STOP_TIMEOUT 3 s) gone {gone_after:.2f} s after the runner's SIGKILL")


def alive(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_stdout_nobody_reads_does_not_hold_a_stop(
    project: Callable[..., Project], started: list[Running], tmp_path: Path
) -> None:
    made = project(
        {
            "one": backend("Chatty", STOP_TIMEOUT=3),
            "two": backend("Chatty", STOP_TIMEOUT=3),
            "stubborn": backend("Stubborn", STOP_TIMEOUT=3),
        }
    )
    popen = subprocess.Popen(
        [sys.executable, str(made.manage_py), "prodserver", "--all"],
        cwd=made.directory,
        env=made.env(),
        stdout=subprocess.PIPE,  # never read until the end: a stalled log driver
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    running = Running(popen, tmp_path / "unread.log")
    started.append(running)
    # The runner, its watchdog, one, two, stubborn.
    wait_for(lambda: len(running.session_pids()) == 5, 30, "5 processes", running)
    time.sleep(2)  # the pipe has long been full: the runner drops lines
    code, seconds = running.stop(timeout=60)
    assert code == 0
    assert seconds < 3 + 12, seconds  # STOP_TIMEOUT is 3 s (stubborn is killed then)
    assert running.wait_for_no_process_left() == []
    assert popen.stdout is not None
    written = popen.stdout.read().decode()
    popen.stdout.close()
    whole = re.compile(r"^\d\d:\d\d:\d\d (\w+) +\| (\w+ \d{9} x{40}|.*)$")
    for line in written.splitlines():
        assert whole.match(line), f"not a whole line: {line!r}"
    print(f"stopped {seconds:.2f} s after SIGTERM with its output unread")


def test_a_runner_among_a_runners_processes_refuses_to_start(
    project: Callable[..., Project], started: list[Running]
) -> None:
    made = project({"nest": backend("Nest", RESTART="never"), "steady": backend("ShowEnvironment")})
    running = made.start("prodserver", "nest", "steady")
    started.append(running)
    wait_for(lambda: "nest exited with status 1" in running.output, 60, "refusal", running)
    assert "runners do not start runners" in running.output
    assert "Traceback" not in running.output
    assert len(started_pids(running, "steady")) == 1
    code, _ = running.stop()
    assert code == 1, running.output  # nest failed for good
    assert running.wait_for_no_process_left() == []


def test_a_process_whose_runner_has_already_ended_does_not_start(
    project: Callable[..., Project],
) -> None:
    made = project({"web": {"BACKEND": GUNICORN, "ARGS": {"bind": f"127.0.0.1:{free_port()}"}}})
    result = made.manage("prodserver", "web", env={"DJANGO_PRODSERVER_RUNNER_PID": "1"})
    assert result.returncode == 1
    assert result.stderr == (
        "'web' was started by a runner (pid 1) that has ended; not starting.\n"
    )


def test_exit_statuses(project: Callable[..., Project], started: list[Running]) -> None:
    made = project(
        {
            "crash": backend("Crash", RESTART="never"),
            "fine": backend("ShowEnvironment", ARGS={"wait": 0}),
        }
    )
    failed = made.manage("prodserver", "crash", "fine")
    assert failed.returncode == 1, failed.stdout
    assert "crash exited with status 1 after" in failed.stdout
    assert "Not started again (RESTART is 'never')" in failed.stdout
    assert "Exiting with status 1: crash failed." in failed.stdout
    assert "Traceback" not in failed.stderr

    # "on-failure" (the default): a process that ends well is not started again.
    fine = made.manage("prodserver", "fine", "fine")
    assert fine.returncode == 0
    assert "Not started again (RESTART is 'on-failure')" in fine.stdout

    unknown = made.manage("prodserver", "fine", "fien")
    assert unknown.returncode == 1
    assert "Unknown process 'fien' (did you mean 'fine'?)" in unknown.stderr
    assert "started" not in unknown.stdout

    typed = made.manage("prodserver", "fine", "crash", "--workers=2")
    assert typed.returncode == 1
    assert "with several, set them in each process's ARGS" in typed.stderr


def test_workers_that_stop_their_own_children_stop_cleanly_together(
    project: Callable[..., Project], started: list[Running], redis_url: str
) -> None:
    """The stop signal goes to each process's main process, not to all its workers:
    django-q2's cluster hangs, and Dramatiq's workers stop at once, when every process
    of theirs gets SIGTERM."""
    made = project(
        {
            "qcluster": {"BACKEND": "django_prodserver.backends.django_q2.DjangoQ2Worker"},
            "dramatiq": {
                "BACKEND": "django_prodserver.backends.dramatiq.DramatiqWorker",
                "ARGS": {"processes": 1, "threads": 1},
            },
        }
    )
    env = {"EXAMPLE_REDIS_URL": redis_url}
    assert made.manage("migrate", "-v", "0", env=env).returncode == 0
    running = made.start("prodserver", "--all", env=env)
    started.append(running)
    # qcluster: the main process, sentinel, monitor, pusher, 2 workers; dramatiq: 2 or more;
    # the runner's watchdog (lifecycle/watchdog.py).
    assert running.wait_for_process_count(10, timeout=60) >= 10, running.output
    time.sleep(1)  # both clusters have installed their handlers
    code, seconds = running.stop(timeout=60)
    assert code == 0, running.output
    assert seconds < 20, running.output  # 2-5 s measured; STOP_TIMEOUT is 30 s
    assert "did not stop within" not in running.output
    assert running.wait_for_no_process_left() == []


def test_as_pid_1_it_reaps_orphans(
    project: Callable[..., Project], started: list[Running], tmp_path: Path
) -> None:
    if subprocess.run(["unshare", "--pid", "--fork", "true"], check=False).returncode != 0:
        pytest.skip("unshare --pid needs root (or user namespaces) on this machine")
    made = project({"orphans": backend("Orphans"), "lines": backend("ShowEnvironment")})
    running = made.start(
        "prodserver", "--all", wrapper=("unshare", "--pid", "--fork", "--mount-proc")
    )
    started.append(running)
    wait_for(lambda: "left an orphan" in running.output, 30, "an orphan", running)
    init = next(pid for pid in running.session_pids() if parent_of(pid) == running.popen.pid)
    time.sleep(1)  # the orphan has ended by now: reaped, or a zombie child of PID 1
    assert zombies_of(init) == [], running.output
    os.kill(init, signal.SIGTERM)  # unshare does not pass signals on
    assert running.popen.wait(30) == 0, running.output
    assert running.wait_for_no_process_left() == []


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def zombies_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        with suppress(OSError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[0] == "Z" and int(fields[1]) == parent:
                found.append(int(entry.name))
    return found
