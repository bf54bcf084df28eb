"""Template filters: each engine's quoting and escaping rules, in one place.

Every value that comes from settings or from the command line goes through one of
these on its way into a generated file. Control characters and line breaks never get
here: `deployment.check_text` rejects them first.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django import template

from django_prodserver.errors import ProdserverError

if TYPE_CHECKING:
    from django_prodserver.exports.deployment import ExportedProcess

register = template.Library()

# Characters that a systemd word may hold without quotes (`%` and `$` are escaped apart).
SYSTEMD_PLAIN = re.compile(r"[A-Za-z0-9_@+=:,./-]+")
# configparser (supervisord's reader) ends a value at `;` or `#` after whitespace.
INLINE_COMMENT = re.compile(r"\s[;#]")
HERE = "%(here)s"


# systemd: specifiers are `%x` (a literal % is `%%`); ExecStart= expands `$NAME`
# (a literal $ is `$$`); quoted words take C escapes.


@register.filter
def systemd_value(value: object) -> str:
    """A setting taken as it is (WorkingDirectory=, User=, Description=): `%` doubled."""
    return str(value).replace("%", "%%")


def systemd_quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@register.filter
def systemd_command(argv: Iterable[str]) -> str:
    """An ExecStart= command line: each word quoted when needed, `%` and `$` escaped."""
    words = []
    for word in argv:
        escaped = word.replace("%", "%%").replace("$", "$$")
        words.append(escaped if SYSTEMD_PLAIN.fullmatch(word) else systemd_quoted(escaped))
    return " ".join(words)


@register.filter
def systemd_assignment(name: str, value: str) -> str:
    """One Environment= assignment, quoted: `"NAME=value"` (no `$` expansion there)."""
    return systemd_quoted(f"{name}={value}".replace("%", "%%"))


# supervisord: the file is read by configparser, then `%(name)s` is expanded in every
# value (a literal % is `%%`); `command` is split by shlex; `environment` by a
# non-POSIX shlex whose quotes take no escapes.


def no_inline_comment(text: str, where: str) -> str:
    if INLINE_COMMENT.search(text):
        raise ProdserverError(
            f"{where} is {text!r}: supervisord reads whitespace followed by ';' or '#' as "
            f"the start of a comment. Remove the whitespace before it."
        )
    return no_here(text, where)


def no_here(text: str, where: str) -> str:
    if HERE in text:
        # supervisord replaces it before anything else, even inside an escaped `%%(here)s`.
        raise ProdserverError(
            f"{where} is {text!r}: supervisord replaces {HERE} with the folder of its "
            f"configuration file wherever it appears, so it cannot be written. Reword it."
        )
    return text


@register.filter
def supervisor_value(value: object, where: str) -> str:
    """A value taken as it is (directory=, user=): `%` doubled."""
    return no_inline_comment(str(value), where).replace("%", "%%")


def supervisor_word(word: str) -> str:
    # `;` and `#` go outside the quotes, backslash-escaped, so that no whitespace
    # ever precedes them in the file: `'a '\;'b'` is the one word `a ;b`.
    if not word:
        return "''"
    parts = re.split(r"([;#])", word)
    return "".join(
        "\\" + part if part in (";", "#") else shlex.quote(part) for part in parts if part
    )


@register.filter
def supervisor_command(argv: Iterable[str]) -> str:
    """A command= line: shell-quoted words (supervisord splits it with shlex), `%` doubled."""
    words = [supervisor_word(no_here(word, "A word of the command")) for word in argv]
    return " ".join(words).replace("%", "%%")


@register.filter
def supervisor_environment(process: ExportedProcess) -> str:
    """An environment= line: `NAME="value"` pairs; a secret refers to supervisord's own env."""
    pairs = []
    for name, value in process.environment.items():
        where = f"Process '{process.name}': ENV[{name!r}]"
        no_inline_comment(value, where)
        quote = "'" if '"' in value else '"'
        if quote in value or value[:1] in ("'", '"') or value[-1:] in ("'", '"'):
            raise ProdserverError(
                f"{where} is {value!r}: supervisord cannot read a value that holds both "
                f"kinds of quotes, or begins or ends with one. Set it in supervisord's own "
                f"environment instead."
            )
        pairs.append(f"{name}={quote}{value.replace('%', '%%')}{quote}")
    # `%(ENV_NAME)s` is expanded by supervisord from the environment it was started with.
    pairs.extend(f'{name}="%(ENV_{name})s"' for name in process.secrets)
    return ",".join(pairs)


# Procfile: each line is run by a shell (`sh -c`, bash on Heroku).


@register.filter
def shell(value: object) -> str:
    return shlex.quote(str(value))


@register.filter
def shell_command(argv: Iterable[str]) -> str:
    return shlex.join(argv)


# YAML: every string is written JSON-style, double-quoted, so that no value is read as a
# number, a boolean (`no`, `on`) or a null. Compose interpolates `$NAME` in every value;
# Kubernetes expands `$(NAME)` in a container's command, args and env values; both
# read `$$` as a literal `$`.


@register.filter
def yaml(value: object) -> str:
    return json.dumps(str(value), ensure_ascii=False)


@register.filter
def yaml_expanded(value: object) -> str:
    """A YAML string in a field the engine expands `$` in (every Compose value, a command)."""
    return yaml(str(value).replace("$", "$$"))


@register.filter
def flow_list(values: Iterable[str], style: str = "yaml") -> str:
    """A YAML flow list of strings, each escaped by the filter named `style`."""
    quote = {"yaml": yaml, "yaml_expanded": yaml_expanded}[style]
    return "[" + ", ".join(quote(value) for value in values) + "]"


# Dockerfile: CMD, HEALTHCHECK CMD and RUN in exec form are JSON arrays, run without a
# shell; WORKDIR, USER and the like expand `$NAME`, which a backslash escapes.


@register.filter
def dockerfile_exec(argv: Iterable[str]) -> str:
    return json.dumps(list(argv), ensure_ascii=False)


@register.filter
def dockerfile_value(value: object) -> str:
    text = str(value)
    if any(character.isspace() for character in text):
        raise ProdserverError(
            f"{text!r} cannot be written in a Dockerfile here: it holds a space. Choose one "
            f"without."
        )
    return text.replace("\\", "\\\\").replace("$", "\\$")
