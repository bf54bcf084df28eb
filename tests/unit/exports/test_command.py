"""`prodserver --export`: formats, flags, names, and where the files go."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_prodserver.exports.flags import FORMAT_NAMES
from django_prodserver.exports.writing import FORMATS
from tests.unit.exports.support import GUNICORN, WORKER, export

PROCESSES = {"web": {"BACKEND": GUNICORN}, "worker": {"BACKEND": WORKER}}


def run(*args):
    stdout = io.StringIO()
    with override_settings(PRODUCTION_PROCESSES=PROCESSES):
        call_command("prodserver", *args, stdout=stdout)
    return stdout.getvalue()


def test_the_flags_name_the_formats_there_are():
    assert tuple(FORMATS) == FORMAT_NAMES


def test_an_unknown_format_lists_the_formats():
    with pytest.raises(CommandError) as error:
        run("--export", "sytemd")
    assert str(error.value) == (
        "Unknown export format 'sytemd' (did you mean 'systemd'?). "
        "The formats are: procfile, systemd, supervisor, compose, kubernetes, dockerfile."
    )


def test_a_flag_the_format_cannot_honour_is_an_error():
    with pytest.raises(CommandError) as error:
        run("--export", "procfile", "--run-as", "www-data")
    assert str(error.value) == (
        "--run-as means nothing in a procfile export, so it cannot be honoured. "
        "--export procfile takes --output, --python."
    )


def test_export_flags_without_export_are_an_error():
    with pytest.raises(CommandError, match=r"^--image, --replicas: only for --export FORMAT"):
        run("web", "--image=x", "--replicas=web=2", "--dry-run")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("web", "--replicas takes NAME=N with N a whole number of at least 1"),
        ("web=0", "--replicas takes NAME=N"),
        ("web=two", "--replicas takes NAME=N"),
        ("wbe=2", "--replicas wbe=2: no process 'wbe' is exported (did you mean 'web'?)"),
    ],
)
def test_bad_replicas(value, message):
    with pytest.raises(CommandError) as error:
        run("--export", "compose", f"--replicas={value}")
    assert str(error.value).startswith(message)


def test_replicas_of_a_process_not_exported_is_an_error():
    with pytest.raises(CommandError, match="no process 'worker' is exported"):
        run("--export", "compose", "web", "--replicas=worker=2")


def test_kubernetes_needs_a_numeric_user():
    with pytest.raises(CommandError, match=r"Kubernetes runs a container as a numeric user id"):
        run("--export", "kubernetes", "--run-as=www-data")


def test_names_choose_the_processes():
    output = export("procfile", PROCESSES, "worker")
    assert "worker: exec python manage.py prodserver worker --settings=tests.settings\n" in output
    assert "web:" not in output


def test_an_unknown_name_lists_the_configured_ones():
    with pytest.raises(CommandError, match=r"Unknown process 'wrker' \(did you mean 'worker'\?\)"):
        run("--export", "procfile", "wrker")


def test_a_broken_process_is_reported_before_anything_is_written(tmp_path):
    processes = {"web": {"BACKEND": GUNICORN, "ARGS": {"wrokers": 2}}}
    with override_settings(PRODUCTION_PROCESSES=processes), pytest.raises(CommandError) as error:
        call_command("prodserver", "--export", "compose", f"--output={tmp_path}/out")
    assert str(error.value).startswith("Process 'web': gunicorn has no option `wrokers`")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("flag", ["--working-directory", "--run-as", "--output"])
def test_an_empty_value_is_refused(flag):
    with pytest.raises(CommandError) as error:
        run("--export", "systemd", f"{flag}=")
    assert str(error.value) == (
        f"{flag} was given an empty value. Give it one, or leave {flag} out for its default."
    )


def test_an_output_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "units").write_text("not a folder")
    with pytest.raises(CommandError) as error:
        run("--export", "systemd", f"--output={tmp_path}/units")
    assert str(error.value) == (
        f"--output {tmp_path}/units is a file; --output takes a folder to write the files into."
    )
    assert (tmp_path / "units").read_text() == "not a folder"


def test_output_writes_each_file_and_says_so(tmp_path):
    printed = run(
        "--export",
        "systemd",
        f"--output={tmp_path}/units",
        "--project=shop",
        "--python=/usr/bin/python3",
    )
    names = ["shop-web.service", "shop-worker.service", "shop.target"]
    assert printed == "".join(f"Wrote {tmp_path}/units/{name}\n" for name in names)
    assert sorted(path.name for path in (tmp_path / "units").iterdir()) == names
    standard_output = run("--export", "systemd", "--project=shop", "--python=/usr/bin/python3")
    for name in names:
        text = (tmp_path / "units" / name).read_text()
        assert f"# ==> {name} <==\n{text}" in standard_output


def test_one_file_goes_to_standard_output_as_it_is():
    output = run("--export", "compose", "--project=shop")
    assert output.startswith("# Generated by `python manage.py prodserver --export compose`")


def test_the_working_directory_names_the_project():
    output = run("--export", "supervisor", "--working-directory=/srv/My Shop")
    assert "[group:My-Shop]\n" in output
    assert "directory=/srv/My Shop\n" in output
