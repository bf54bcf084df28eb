from __future__ import annotations

import pytest
from django.test import override_settings

from django_prodserver.checks import messages_before_a_start, messages_in_depth
from django_prodserver.compat.none_flags import none_flags
from django_prodserver.errors import OptionError
from django_prodserver.options import (
    Option,
    OptionTable,
    override,
    parse_bool,
    render,
)
from django_prodserver.planning import plan_process
from django_prodserver.processes import read_processes

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


def test_none_leaves_an_option_with_an_optional_value_unset():
    assert argv({"proxy-protocol": None}) == []


def test_none_switches_a_flag_on_and_keeps_the_name_it_was_given():
    """django-prodserver 3.0 documented `"preload": None` for a bare `--preload`."""
    configured = TABLE.from_mapping({"Reload": None, "workers": None, "proxy_headers": None}, "web")
    assert render(configured) == ["--reload", "--proxy-headers"]
    assert none_flags(configured) == ["Reload", "proxy_headers"]


def test_none_switches_a_negative_flag_on():
    configured = TABLE.from_mapping({"no-sendfile": None, "no-proxy-headers": None}, "web")
    assert render(configured) == ["--no-sendfile", "--no-proxy-headers"]
    assert none_flags(configured) == ["no-sendfile", "no-proxy-headers"]


def test_true_false_and_values_are_not_none_flags():
    assert (
        none_flags(TABLE.from_mapping({"reload": True, "sendfile": False, "bind": "x"}, "web"))
        == []
    )


def test_a_typed_flag_replaces_the_one_none_switched_on():
    configured = TABLE.from_mapping({"reload": None}, "web")
    typed, _ = TABLE.from_argv(["--reload"], "web")
    assert none_flags(override(configured, typed)) == []


def test_extra_names_find_the_option_but_never_shadow_the_servers_own():
    table = OptionTable("demo", [BIND, WORKERS], extra_names={"address": "bind", "workers": "bind"})
    assert render(table.from_mapping({"Address": "x"}, "web")) == ["--bind=x"]
    assert table.find("workers", "web")[0] is WORKERS
    with pytest.raises(OptionError, match=r"sets demo's `bind` twice, as `bind` and as `address`"):
        table.from_mapping({"bind": "x", "address": "y"}, "web")
    with pytest.raises(ValueError, match=r"no option `port` for the extra name `listen`"):
        OptionTable("demo", [BIND], extra_names={"listen": "port"})


GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
UVICORN = "django_prodserver.backends.uvicorn.UvicornServer"


def check_messages(processes, *, starting=False):
    with override_settings(PRODUCTION_PROCESSES=processes):
        if not starting:
            return messages_in_depth()
        specs, _ = read_processes()
        return messages_before_a_start([plan_process(spec) for spec in specs.values()])


@pytest.mark.parametrize("starting", [False, True])
def test_a_flag_set_to_none_is_a_warning_of_the_checks(starting):
    messages = check_messages(
        {
            "web": {"BACKEND": GUNICORN, "ARGS": {"preload": None, "accesslog": None}},
            "api": {"BACKEND": UVICORN, "ARGS": {"no-access-log": None}},
        },
        starting=starting,
    )
    assert [(m.id, m.level) for m in messages] == [("prodserver.W003", 30)] * 2
    assert [m.msg for m in messages] == [
        "Process 'web': `preload` is None, which switches the flag on "
        "(as django-prodserver 3.0 read it); write True.",
        "Process 'api': `no-access-log` is None, which switches the flag on "
        "(as django-prodserver 3.0 read it); write True.",
    ]
    assert messages[0].hint == (
        'Write "preload": True to keep the flag on, or remove `preload` to leave it off.'
    )
    assert not any(message.is_serious() for message in messages)


def test_a_value_option_set_to_none_is_no_warning():
    assert check_messages({"web": {"BACKEND": GUNICORN, "ARGS": {"accesslog": None}}}) == []


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
