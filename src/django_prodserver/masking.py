"""Hide secrets in anything the program prints or writes.

What is secret is Django's own notion (`SafeExceptionReporterFilter.hidden_settings`:
a name with API, AUTH, TOKEN, KEY, SECRET, PASS or SIGNATURE in it, in any case) applied
to `NAME=value` words, `--option value` pairs and query parameters, plus the user part of
a URL (`redis://user:password@host`, a Sentry DSN's `https://KEY@host`).

Every pattern here runs in linear time: the text is cut into words once, and each word is
read with `str.find` and patterns without nested repetition, so that a value of megabytes
(an ENV value, a pasted certificate) costs milliseconds, not minutes.
"""

from __future__ import annotations

import functools
import re

MASK = "********"

# What Django's pattern misses and a deployment holds: GitHub's `GITHUB_PAT`, a Sentry
# `SENTRY_DSN` (its user part is the key), `GOOGLE_APPLICATION_CREDENTIALS`, `PRIVATE`;
# and AUTH, in Django's own pattern only from Django 5.0 on (`--basic-auth`).
_ALSO_SENSITIVE = r"(?:\b|_)PAT(?:\b|_)|DSN|CREDENTIAL|PRIVATE|AUTH"


@functools.cache
def sensitive_name() -> re.Pattern[str]:
    """Django's own pattern with ours beside it, read once from its lazily compiled object.

    Imported when first needed, not with this module: the runner's own interpreter masks
    its messages without loading Django (django.views.debug is some 400 modules), and its
    messages seldom hold a name to look at.
    """
    from django.views.debug import SafeExceptionReporterFilter

    hidden: re.Pattern[str] = SafeExceptionReporterFilter.hidden_settings
    return re.compile(f"{hidden.pattern}|{_ALSO_SENSITIVE}", hidden.flags | re.IGNORECASE)


# A word as a shell (and `shlex.join`) writes it: runs of quoted and bare text, so that
# `'DB_PASSWORD=a b'` is one word. An unterminated quote is a word of its own.
_WORD = re.compile(r"""(?:'[^']*'|"[^"]*"|[^\s'"]+)+|['"]""")
# A name directly before `=`, not inside a longer name.
_NAME_BEFORE_EQUALS = re.compile(r"(?<![\w.-])[\w.-]+(?==)")
# Where the value of a query parameter ends.
_QUERY_VALUE_END = re.compile(r"[&#;'\"]")
# Where the host part of a URL ends and its path, query or fragment begins.
_PATH_START = re.compile(r"[/?#]")
_SCHEME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
# An option that names a file or a folder holds no secret: `--keyfile=/etc/ssl/key.pem`,
# `--ssl-keyfile`, `--keyfile-password` (ends in "password": secret) is not one of them.
_PATH_OPTION = re.compile(r"-.*(?:file|path|dir)", re.IGNORECASE)
_URL_START = re.compile(r"['\"]?[A-Za-z][\w+.-]*://")
_OPTION = re.compile(r"--?[A-Za-z][\w.-]*")


def sensitive(name: str) -> bool:
    """Whether a variable, option or parameter called `name` holds a secret."""
    return bool(sensitive_name().search(name)) and not _PATH_OPTION.fullmatch(name)


def mask_secrets(text: str) -> str:
    """`redis://:pw@host` -> `redis://:********@host`; `SECRET_KEY=x` -> `SECRET_KEY=********`."""
    if not text:
        return text
    pieces: list[str] = []
    position = 0
    mask_next = False
    previous = ""
    for word in _WORD.finditer(text):
        pieces.append(text[position : word.start()])
        raw = word[0]
        if mask_next and not raw.lstrip("'\"").startswith("-"):
            pieces.append(_masked_whole(raw))
            mask_next = False
        else:
            pieces.append(_mask_word(raw))
            mask_next = _announces_secret(raw, previous)
        previous = raw
        position = word.end()
    pieces.append(text[position:])
    return "".join(pieces)


def _announces_secret(word: str, previous: str) -> bool:
    """`--broker-password` (the value is the next word) or `'SECRET_KEY':` (a dict's repr)."""
    bare = word.strip("'\"")
    if _OPTION.fullmatch(bare):
        return sensitive(bare)
    # A key of a dict's repr opens it or follows a comma (not "Process 'api': ...").
    if word.endswith(":") and (word.startswith("{") or previous.endswith(",")):
        name = word[:-1].lstrip("{[(,").strip("'\"")
        return bool(name) and name.isidentifier() and sensitive(name)
    return False


def _masked_whole(word: str) -> str:
    quote = word[0] if word[0] in "'\"" else ""
    trailing = word[len(word.rstrip(",)}]")) :]
    return f"{quote}{MASK}{quote}{trailing}"


def _mask_word(word: str) -> str:
    if "://" in word:
        word = _mask_urls(word)
    if "=" in word and sensitive_name().search(word):
        word = _mask_assignments(word)
    return word


def _mask_assignments(word: str) -> str:
    """`NAME=value` (the rest of the word is the value) and `?token=value&...`."""
    out: list[str] = []
    position = 0
    for name in _NAME_BEFORE_EQUALS.finditer(word):
        if name.start() < position or not sensitive(name[0]):
            continue
        value_start = name.end() + 1
        if _URL_START.match(word, value_start):
            # `--broker-api=http://admin:pw@rabbit/api/`: what is secret in a URL is masked
            # as in any URL, and where it points stays readable.
            continue
        before = word[name.start() - 1] if name.start() else ""
        out.append(word[position:value_start])
        if before and before in "?&;":  # "" is in every string: a word's first name is none
            end = _QUERY_VALUE_END.search(word, value_start)
            position = end.start() if end else len(word)
            out.append(MASK)
            continue
        out.append(MASK)
        out.append(_closing_quote(word[:value_start]))
        return "".join(out)
    out.append(word[position:])
    return "".join(out)


def _closing_quote(head: str) -> str:
    """The quote that closes the quoted run `head` ends inside, if it ends inside one."""
    quote = ""
    for char in head:
        if char in "'\"" and quote in ("", char):
            quote = "" if quote else char
    return quote


def _mask_urls(word: str) -> str:
    """The user part of each URL in `word`: `scheme://user:pw@host`, `scheme://KEY@host`.

    A password may hold any character as the user typed it (`#`, `?`, `/`, `@`, even
    `://`), so where a URL ends is read two ways: each `://` starts a URL, or only one
    after a list separator (`;`, `,`: a failover list) does. What either reading takes
    for a password is masked.
    """
    markers = []
    position = word.find("://")
    while position != -1:
        markers.append(position)
        position = word.find("://", position + 3)
    if not markers:
        return word
    listed = [m for index, m in enumerate(markers) if index == 0 or _after_separator(word, m)]
    spans = sorted(
        span
        for starts in (markers, listed)
        for start, limit in zip(starts, [*starts[1:], len(word)], strict=True)
        if (span := _secret_span(word, start + 3, limit))
    )
    merged: list[tuple[int, int]] = []
    for begin, end in spans:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    out: list[str] = []
    position = 0
    for begin, end in merged:
        out += [word[position:begin], MASK]
        position = end
    out.append(word[position:])
    return "".join(out)


def _after_separator(word: str, marker: int) -> bool:
    """Whether the scheme before the `://` at `marker` follows a list separator."""
    start = marker
    while start > 0 and word[start - 1] in _SCHEME_CHARACTERS:
        start -= 1
    return start < marker and start > 0 and word[start - 1] in ";,"


def _secret_span(word: str, after: int, limit: int) -> tuple[int, int] | None:
    """Where the secret of the user part between `after` and `limit` is; None: none.

    The user part ends at the last `@`. With a `:` before the first `/`, `?` or `#`, it is
    `user:password` and the password is everything up to that `@`; without, it is a key
    (`https://KEY@host`) only if an `@` comes before that character (`https://host/@x` is a
    path).
    """
    at = word.rfind("@", after, limit)
    if at == -1:
        return None
    delimiter = _PATH_START.search(word, after, at)
    head_end = delimiter.start() if delimiter else at
    colon = word.find(":", after, head_end)
    if colon != -1:
        return colon + 1, at
    at = word.rfind("@", after, head_end) if delimiter else at
    return (after, at) if at > after else None
