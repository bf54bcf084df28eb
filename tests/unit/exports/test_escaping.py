"""Values holding `%`, quotes, spaces, `$`, `;` and `#` reach each engine intact.

A process name is letters, digits, `-`, `_` and `.` (a name with a space, a quote or a `$`
is a check error, prodserver.E013): the names here hold those that engines spell apart.

Where the engine's own reader is installed (supervisord's, honcho's and a shell for the
Procfile, YAML for Compose and Kubernetes), the test reads the file with it.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap

import pytest
import yaml
from django.core.management.base import CommandError

from tests.unit.exports.support import WORKER, export

# The settings module the export ran with, carried into every process's line.
SETTINGS = "--settings=tests.settings"
NAME = "Night_job.v2"
ENV = {"DISCOUNT": '50% off $HOME "now", {x} %(there)s', "NOTE": "it's 100%;#1 x"}
PROCESSES = {NAME: {"BACKEND": WORKER, "ENV": ENV}}


def without_dollar_escapes(value):
    return value.replace("$$", "$")


def test_supervisord_reads_back_the_command_and_the_environment(tmp_path):
    from supervisor.options import ServerOptions

    (tmp_path / "app.conf").write_text(export("supervisor", PROCESSES))
    (tmp_path / "supervisord.conf").write_text(
        f"[supervisord]\nlogfile={tmp_path}/log\npidfile={tmp_path}/pid\n"
        f"[include]\nfiles = app.conf\n"
    )
    options = ServerOptions()
    options.realize(args=["-c", str(tmp_path / "supervisord.conf")])
    [group] = options.process_group_configs
    [program] = group.process_configs
    assert program.name == "app-Night_job.v2"
    assert shlex.split(program.command) == [
        "/srv/app/venv/bin/python",
        "manage.py",
        "prodserver",
        NAME,
        SETTINGS,
    ]
    assert program.environment == ENV


def test_the_procfile_line_runs_the_exact_command(tmp_path):
    from honcho.environ import parse_procfile

    folder = tmp_path / "bin dir %"
    folder.mkdir()
    python = folder / "python"
    python.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        f"print(json.dumps([sys.argv[1:], {{k: os.environ[k] for k in {sorted(ENV)!r}}}]))\n"
    )
    python.chmod(0o755)
    procfile = export_with_python(str(python))
    [(name, command)] = parse_procfile(procfile).processes.items()
    assert name == "Night_job-v2"
    ran = subprocess.run(
        ["/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"], "HOME": "/nowhere"},
    )
    assert json.loads(ran.stdout) == [["manage.py", "prodserver", NAME, SETTINGS], ENV]


def export_with_python(python):
    import io

    from django.core.management import call_command
    from django.test import override_settings

    stdout = io.StringIO()
    with override_settings(PRODUCTION_PROCESSES=PROCESSES):
        call_command("prodserver", "--export", "procfile", f"--python={python}", stdout=stdout)
    return stdout.getvalue()


def test_compose_keeps_every_character_and_escapes_interpolation():
    service = yaml.safe_load(export("compose", PROCESSES))["services"]["Night_job.v2"]
    assert [without_dollar_escapes(word) for word in service["command"]] == [
        "python",
        "manage.py",
        "prodserver",
        NAME,
        SETTINGS,
    ]
    assert {k: without_dollar_escapes(v) for k, v in service["environment"].items()} == ENV
    # Compose would replace a lone `$HOME`; every `$` is doubled.
    assert "$HOME" not in service["environment"]["DISCOUNT"].replace("$$HOME", "")


def test_kubernetes_keeps_every_character_and_escapes_expansion():
    output = export("kubernetes", PROCESSES)
    [deployment] = [doc for doc in yaml.safe_load_all(output) if doc]
    assert deployment["metadata"]["name"] == "app-night-job-v2"
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert [without_dollar_escapes(word) for word in container["command"]][3] == NAME
    assert {item["name"]: without_dollar_escapes(item["value"]) for item in container["env"]} == (
        ENV
    )


def test_systemd_quotes_and_escapes_specifiers_and_variables():
    output = export("systemd", PROCESSES)
    assert (
        textwrap.dedent(
            """\
            Description=app: Night_job.v2 (echo)
            """
        )
        in output
    )
    assert (
        "ExecStart=/srv/app/venv/bin/python manage.py prodserver Night_job.v2 "
        "--settings=tests.settings\n" in output
    )
    assert 'Environment="DISCOUNT=50%% off $HOME \\"now\\", {x} %%(there)s"\n' in output
    assert 'Environment="NOTE=it\'s 100%%;#1 x"\n' in output


@pytest.mark.parametrize("format", ["procfile", "systemd", "supervisor", "compose", "kubernetes"])
# A NUL cannot be in any environment: the settings refuse it (prodserver.E005).
@pytest.mark.parametrize("character", ["\n", "\r", "\x1b", "\u2028"])
def test_a_line_break_in_a_value_is_an_error(format, character):
    value = f"one{character}two"
    processes = {"web": {"BACKEND": WORKER, "ENV": {"GREETING": value}}}
    with pytest.raises(CommandError) as error:
        export(format, processes)
    assert str(error.value) == (
        f"Process 'web': ENV['GREETING'] holds {character!r} (in {value!r}): a {format} file "
        f"cannot hold a line break or a control character there. Remove it or set the "
        f"variable in the environment file."
    )


def test_a_line_break_in_a_process_name_is_an_error():
    with pytest.raises(CommandError, match=r"Process 'web\\nx': the name cannot be used"):
        export("systemd", {"web\nx": {"BACKEND": WORKER}})


def test_a_value_supervisord_cannot_hold_is_an_error_naming_the_process():
    processes = {"web": {"BACKEND": WORKER, "ENV": {"QUOTES": "both ' and \""}}}
    with pytest.raises(CommandError) as error:
        export("supervisor", processes)
    assert str(error.value) == (
        "Process 'web': ENV['QUOTES'] is 'both \\' and \"': supervisord cannot read a value "
        "that holds both kinds of quotes, or begins or ends with one. Set it in supervisord's "
        "own environment instead."
    )


def test_here_cannot_be_written_for_supervisord():
    processes = {"web": {"BACKEND": WORKER, "ENV": {"WHERE": "%(here)s"}}}
    with pytest.raises(CommandError, match=r"supervisord replaces %\(here\)s with the folder"):
        export("supervisor", processes)


def test_names_that_become_the_same_are_an_error():
    processes = {"web_1": {"BACKEND": WORKER}, "web-1": {"BACKEND": WORKER}}
    with pytest.raises(CommandError, match="Processes 'web_1' and 'web-1' both become 'web-1'"):
        export("kubernetes", processes)
