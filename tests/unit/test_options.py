from __future__ import annotations

import pytest

from django_prodserver.errors import OptionError
from django_prodserver.options import Option, OptionTable, override, parse_bool, render

BIND = Option("bind", flags=("-b", "--bind"), repeatable=True)
WORKERS = Option("workers", flags=("-w", "--workers"))
RELOAD = Option("reload", flags=("--reload",), takes_value=False)
SENDFILE = Option("sendfile", negative_flags=("--no-sendfile",), takes_value=False)
PROXY = Option(
    "proxy_headers",
    flags=("--proxy-headers",),
    negative_flags=("--no-proxy-headers",),
    takes_value=False,
)
PROTOCOL = Option("proxy_protocol", flags=("--proxy-protocol",), optional_value=True)
TABLE = OptionTable("demo", [BIND, WORKERS, RELOAD, SENDFILE, PROXY, PROTOCOL])


def argv(args):
    return render(TABLE.from_mapping(args, "web"))


def test_values_become_option_equals_value():
    assert argv({"bind": "0.0.0.0:8000", "workers": 4}) == ["--bind=0.0.0.0:8000", "--workers=4"]


def test_names_may_be_spelled_with_dashes_or_underscores_and_any_case():
    assert argv({"proxy_headers": True}) == argv({"Proxy-Headers": "True"}) == ["--proxy-headers"]


@pytest.mark.parametrize("value", [True, "True", "true", "yes", "on", "1"])
def test_true_switches_a_flag_on(value):
    assert argv({"reload": value}) == ["--reload"]


@pytest.mark.parametrize("value", [False, "False", "no", "0"])
def test_false_leaves_a_flag_off(value):
    assert argv({"reload": value}) == []


def test_false_uses_the_negative_flag_where_the_server_has_one():
    assert argv({"proxy-headers": False}) == ["--no-proxy-headers"]
    assert argv({"sendfile": False}) == ["--no-sendfile"]
    assert argv({"sendfile": True}) == []


def test_a_negative_flag_named_directly_is_switched_on_by_true():
    assert argv({"no-sendfile": True}) == ["--no-sendfile"]
    assert argv({"no-proxy-headers": "True"}) == ["--no-proxy-headers"]


def test_none_leaves_the_option_unset():
    assert argv({"workers": None, "bind": "x"}) == ["--bind=x"]


def test_a_list_repeats_the_option():
    assert argv({"bind": ["127.0.0.1:8000", "unix:/tmp/s"]}) == [
        "--bind=127.0.0.1:8000",
        "--bind=unix:/tmp/s",
    ]


def test_an_optional_value_option_set_to_true_is_a_bare_flag():
    assert argv({"proxy-protocol": True}) == ["--proxy-protocol"]
    assert argv({"proxy-protocol": "v2"}) == ["--proxy-protocol=v2"]


def test_unknown_option_names_the_process_and_suggests():
    with pytest.raises(OptionError, match=r"Process 'web': demo has no option `worker`.*`workers`"):
        argv({"worker": 4})


def test_a_flag_with_a_non_boolean_value_is_an_error():
    with pytest.raises(OptionError, match=r"`reload` is a flag .* got 'maybe'"):
        argv({"reload": "maybe"})


def test_a_list_for_a_single_value_option_is_an_error():
    with pytest.raises(OptionError, match=r"`workers` takes one value"):
        argv({"workers": [1, 2]})


@pytest.mark.parametrize("value", [True, {"a": 1}, [True]])
def test_a_value_option_rejects_booleans_and_dicts(value):
    with pytest.raises(OptionError, match=r"`bind`"):
        argv({"bind": value})


def test_the_same_option_twice_under_two_names_is_an_error():
    with pytest.raises(OptionError, match=r"twice"):
        argv({"workers": 2, "WORKERS": 3})


def test_argv_is_read_back_into_options():
    options, positionals = TABLE.from_argv(
        ["-w", "4", "--bind", "a", "-bb", "--reload", "app:main", "--", "--literal"], "web"
    )
    assert render(options) == ["--workers=4", "--bind=a", "--bind=b", "--reload"]
    assert positionals == ["app:main", "--literal"]


def test_argv_unknown_option_is_an_error():
    with pytest.raises(OptionError, match=r"has no option `--wrokers`.*`workers`"):
        TABLE.from_argv(["--wrokers=3"], "web")


def test_argv_option_without_its_value_is_an_error():
    with pytest.raises(OptionError, match=r"needs a value"):
        TABLE.from_argv(["--workers"], "web")


def test_overrides_replace_the_configured_option_in_place():
    configured = TABLE.from_mapping({"bind": "a", "workers": 2, "reload": True}, "web")
    typed, _ = TABLE.from_argv(["-w", "8"], "web")
    assert render(override(configured, typed)) == ["--bind=a", "--workers=8", "--reload"]


def test_parse_bool():
    assert parse_bool("TRUE") is True
    assert parse_bool("off") is False
    assert parse_bool("maybe") is None
    assert parse_bool(1) is None
