"""env_files.py: the dotenv format, which files are read, and who wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from django_prodserver.env_files import (
    EnvFileError,
    chosen_env_files,
    dry_run_lines,
    load_env_files,
    parse_env_text,
    read_env_file,
)


def parse(text: str) -> dict[str, str]:
    return parse_env_text(text, "test.env")


def test_the_common_shapes():
    text = (
        "# a comment\n"
        "\n"
        "PLAIN=value\n"
        "export EXPORTED=yes\n"
        "  SPACED = around equals  \n"
        "EMPTY=\n"
        "COMMENTED=value # the comment\n"
        "HASH=no#comment\n"
        "ONLY_COMMENT= # nothing\n"
        "SINGLE='a $literal \\n # kept'\n"
        'DOUBLE="tab\\there \\"quoted\\" back\\\\slash \\$x"  # comment\n'
        "URL=postgres://user:pw@host/db?x=1\n"
        "EQUALS=a=b=c\n"
        "PLAIN=later wins\n"
    )
    assert parse(text) == {
        "PLAIN": "later wins",
        "EXPORTED": "yes",
        "SPACED": "around equals",
        "EMPTY": "",
        "COMMENTED": "value",
        "HASH": "no#comment",
        "ONLY_COMMENT": "",
        "SINGLE": "a $literal \\n # kept",
        "DOUBLE": 'tab\there "quoted" back\\slash \\$x',
        "URL": "postgres://user:pw@host/db?x=1",
        "EQUALS": "a=b=c",
    }


def test_quoted_values_span_lines():
    text = "CERT=\"-----BEGIN-----\nabc\n-----END-----\"\nNEXT=1\nS='one\ntwo'\n"
    assert parse(text) == {
        "CERT": "-----BEGIN-----\nabc\n-----END-----",
        "NEXT": "1",
        "S": "one\ntwo",
    }


def test_windows_line_ends_and_a_byte_order_mark(tmp_path: Path):
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbfA=1\r\nB='2'\r\n")
    assert dict(read_env_file(path).values) == {"A": "1", "B": "2"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A=1\nnot a variable\n", "test.env, line 2: expected NAME=VALUE"),
        ("1ABC=x\n", "test.env, line 1: '1ABC' is not a variable name"),
        ("MY-NAME=x\n", "test.env, line 1: 'MY-NAME' is not a variable name"),
        ('A=1\nB="open\nstill open\n', "test.env, line 2: the double quote that opens"),
        ("A='open\n", "test.env, line 1: the single quote that opens"),
        ("A='quoted'trailing\n", "test.env, line 1: A's value goes on after its closing quote"),
        ("export\n", "test.env, line 1: expected NAME=VALUE"),
        ("A=x\x00y\n", "test.env, line 1: A's value holds a NUL character"),
    ],
)
def test_a_malformed_line_names_the_file_and_the_line(text: str, message: str):
    with pytest.raises(EnvFileError) as error:
        parse(text)
    assert str(error.value).startswith(message), error.value


def test_an_error_never_quotes_the_value():
    with pytest.raises(EnvFileError) as error:
        parse("STRIPE_LIVE sk_live_abcdef\n")
    assert "sk_live" not in str(error.value)
    with pytest.raises(EnvFileError) as error:
        parse("BAD NAME=sk_live_abcdef\n")
    assert "sk_live" not in str(error.value)


def test_a_missing_or_undecodable_file_is_an_error(tmp_path: Path):
    with pytest.raises(EnvFileError, match=r"--env-file .*missing.env: no such file"):
        read_env_file(tmp_path / "missing.env")
    latin = tmp_path / "latin.env"
    latin.write_bytes(b"A=1\nB=caf\xe9\n")
    with pytest.raises(EnvFileError, match=r"latin.env, line 2: not UTF-8 text"):
        read_env_file(latin)


def test_dot_env_beside_manage_py_unless_files_are_named(tmp_path: Path):
    assert chosen_env_files([], tmp_path) == []
    (tmp_path / ".env").write_text("A=1\n")
    assert chosen_env_files([], tmp_path) == [tmp_path / ".env"]
    assert chosen_env_files(["other.env"], tmp_path) == [Path("other.env")]
    assert chosen_env_files([], None) == []


def test_the_real_environment_wins_then_the_later_file(tmp_path: Path):
    first, second = tmp_path / "first.env", tmp_path / "second.env"
    first.write_text("A=first\nB=first\nC=first\n")
    second.write_text("B=second\nC=second\n")
    environ = {"C": "real"}
    loaded = load_env_files([str(first), str(second)], environ)
    assert environ == {"A": "first", "B": "second", "C": "real"}
    assert loaded.added == ("A", "B")
    assert loaded.summary() == [
        f"Environment files read: {first}, {second} (3 variables; the later file wins).",
        "From the files: A, B.",
        "Kept from the real environment, which wins: C.",
    ]


def test_a_dry_run_shows_the_values_with_secrets_masked(tmp_path: Path):
    path = tmp_path / ".env"
    path.write_text(
        "DEBUG=1\nDB_PASSWORD='hunter 2'\nDATABASE_URL=postgres://app:hunter2@db/app\n"
        "SECRET_KEY=abc\n"
    )
    lines = dry_run_lines(load_env_files([str(path)], {"SECRET_KEY": "real"}))
    text = "\n".join(lines)
    assert "hunter" not in text
    assert "abc" not in text
    assert "  DEBUG=1" in lines
    assert "  DB_PASSWORD=********" in lines
    assert "  DATABASE_URL=postgres://app:********@db/app" in lines
    assert "  SECRET_KEY=********  # the real environment's value is kept" in lines


@settings(max_examples=400, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from("AB_=#'\"\\ \n\t\rx$\x00é"), max_size=60) | st.text())
def test_any_text_parses_or_is_a_clear_error(text: str):
    try:
        values = parse(text)
    except EnvFileError as error:
        message = str(error)
    else:
        message = "test.env, line (none)"
    assert message.startswith("test.env, line ")
    for name, value in values.items() if message.endswith("(none)") else ():
        assert name
        assert "=" not in name
        assert "\x00" not in value


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)
value_texts = st.text(
    st.characters(exclude_characters="\x00", categories=("L", "M", "N", "P", "S", "Z", "Cc")),
    max_size=30,
)


@settings(max_examples=300, deadline=None, database=None)
@given(st.dictionaries(names, value_texts, max_size=6))
def test_double_quoted_values_come_back_as_written(variables: dict[str, str]):
    def quoted(value: str) -> str:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return '"' + escaped.replace("\r", "\\r") + '"'

    text = "".join(f"{name}={quoted(value)}\n" for name, value in variables.items())
    assert parse(text) == variables
