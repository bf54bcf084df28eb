"""`.env` files: read them, and give their variables to the processes that start.

The format is the common one of foreman, honcho, Docker Compose and python-dotenv:

- `NAME=value`, optionally `export NAME=value`; spaces around `=` are allowed;
- blank lines, and lines whose first character (after spaces) is `#`, are skipped;
- an unquoted value ends at ` #` (a comment) and loses its surrounding spaces;
- `'single quoted'` is taken as written; `"double quoted"` reads `\\n`, `\\t`, `\\r`,
  `\\"` and `\\\\` as escapes and keeps any other backslash; either may span lines (a
  certificate), and only a comment may follow the closing quote;
- no `$VAR` expansion: a value is what the file says, `$` included;
- the same NAME twice in one file: the later line wins, as in a shell.

A line of any other shape is an `EnvFileError` that names the file and the line, and
never quotes the line's value (it may be a secret that masking cannot recognise).

Which files, and who wins (`load_env_files`): the files named by `--env-file`, in the
order given, the later file's value winning over the earlier's, as with Docker's and
foreman's repeated option; with no `--env-file`, `.env` beside `manage.py` when it
exists. The real environment wins over every file: a file only fills in what is unset.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from django_prodserver.errors import ProdserverError
from django_prodserver.lifecycle.watchdog import RUNNER_PID
from django_prodserver.masking import mask_secrets

DEFAULT_NAME = ".env"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPORT = re.compile(r"export\s+")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


class EnvFileError(ProdserverError):
    pass


@dataclass(frozen=True)
class EnvFile:
    """One file read: where it is, and the variables it sets, in its order."""

    path: Path
    values: Mapping[str, str]


def parse_env_text(text: str, where: str) -> dict[str, str]:
    """The variables `text` sets; `where` names the file in errors."""
    values: dict[str, str] = {}
    # Lines end at \n (or \r\n) only: splitlines() would also cut at \x1e, \x85, \u2028...
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index].lstrip()
        index += 1
        if not line or line.startswith("#"):
            continue
        export = _EXPORT.match(line)
        if export:
            line = line[export.end() :]
        name_match = _NAME.match(line)
        rest = line[name_match.end() :].lstrip() if name_match else ""
        if not name_match or not rest.startswith("="):
            raise EnvFileError(_malformed(where, number, line))
        name = name_match[0]
        raw = rest[1:].lstrip()
        if raw[:1] in ("'", '"'):
            value, after, index = _quoted(raw, lines, index, where, number)
            if after.strip() and not after.strip().startswith("#"):
                raise EnvFileError(
                    f"{where}, line {number}: {name}'s value goes on after its closing "
                    f"quote; only a comment (`# ...`) may follow it. Quote the whole value."
                )
        else:
            value = _unquoted(raw)
        if "\x00" in value:
            raise EnvFileError(
                f"{where}, line {number}: {name}'s value holds a NUL character, which no "
                f"environment variable can."
            )
        values[name] = value
    return values


def _malformed(where: str, number: int, line: str) -> str:
    expected = "expected NAME=VALUE (NAME: letters, digits and _, not starting with a digit)"
    head = line.split("=", 1)[0].strip() if "=" in line else ""
    if head and not _NAME.fullmatch(head.removeprefix("export").strip()):
        # The name is shown only when it has no `=` value after it to leak.
        shown = head if len(head) <= 60 else head[:57] + "..."
        return f"{where}, line {number}: {shown!r} is not a variable name; {expected}."
    return f"{where}, line {number}: {expected}; the line has no such shape."


def _unquoted(raw: str) -> str:
    if raw.startswith("#"):
        return ""  # `NAME= # a comment`: empty
    comment = re.search(r"\s#", raw)
    if comment:
        raw = raw[: comment.start()]
    return raw.strip()


def _quoted(
    raw: str, lines: Sequence[str], index: int, where: str, number: int
) -> tuple[str, str, int]:
    """The value of a quoted `raw` (continued on the next lines until its quote closes),
    what follows the closing quote, and the index of the line after it."""
    quote = raw[0]
    text = raw[1:]
    pieces: list[str] = []
    while True:
        end = _closing(text, quote)
        if end >= 0:
            pieces.append(text[:end])
            after = text[end + 1 :]
            break
        pieces.append(text + "\n")
        if index >= len(lines):
            kind = "single" if quote == "'" else "double"
            raise EnvFileError(
                f"{where}, line {number}: the {kind} quote "
                f"that opens this value is never closed. Close it, or escape a quote inside "
                f"the value."
            )
        text = lines[index]
        index += 1
    value = "".join(pieces)
    if quote == '"':
        value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), value, flags=re.DOTALL)
    return value, after, index


def _closing(text: str, quote: str) -> int:
    """Where the closing `quote` is in `text` (-1: none); in double quotes, `\\"` escapes."""
    if quote == "'":
        return text.find("'")
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == '"':
            return position
        position += 1
    return -1


def read_env_file(path: Path) -> EnvFile:
    """The variables of the file at `path`; an EnvFileError if it cannot be read or parsed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise EnvFileError(
            f"--env-file {path}: no such file. Name a file that exists (relative paths are "
            f"read from {Path.cwd()})."
        ) from None
    except OSError as error:
        raise EnvFileError(f"--env-file {path}: cannot be read: {error.strerror}.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        number = data[: error.start].count(b"\n") + 1
        raise EnvFileError(
            f"{path}, line {number}: not UTF-8 text. Save the file as UTF-8."
        ) from None
    return EnvFile(path, parse_env_text(text, str(path)))


def chosen_env_files(named: Sequence[str], base_dir: Path | None) -> list[Path]:
    """The files named by --env-file; with none, `.env` in `base_dir` if it exists."""
    if named:
        return [Path(name) for name in named]
    if base_dir is not None and (base_dir / DEFAULT_NAME).is_file():
        return [base_dir / DEFAULT_NAME]
    return []


def merged(files: Sequence[EnvFile]) -> dict[str, str]:
    """The files' variables, the later file's value winning."""
    values: dict[str, str] = {}
    for env_file in files:
        values.update(env_file.values)
    return values


def fill_in(environ: MutableMapping[str, str], values: Mapping[str, str]) -> list[str]:
    """Set in `environ` what it lacks of `values`: the real environment wins. The names set."""
    added = [name for name in values if name not in environ]
    for name in added:
        environ[name] = values[name]
    return added


def project_base_dir() -> Path | None:
    """The folder of `manage.py` when this command runs from it (else no default file)."""
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if program is not None and program.name == "manage.py":
        return program.resolve().parent
    return None


@dataclass(frozen=True)
class LoadedEnv:
    """What `load_env_files` did: the files read, every variable they hold, those set."""

    files: tuple[EnvFile, ...]
    values: Mapping[str, str]
    added: tuple[str, ...]

    def summary(self) -> list[str]:
        """The lines that say which files were read and what they gave, names only."""
        if not self.files:
            return []
        paths = ", ".join(str(env_file.path) for env_file in self.files)
        kept = [name for name in self.values if name not in self.added]
        lines = [
            f"Environment files read: {paths} "
            f"({len(self.values)} variable{'' if len(self.values) == 1 else 's'}"
            f"{'; the later file wins' if len(self.files) > 1 else ''})."
        ]
        if self.added:
            lines.append(f"From the files: {', '.join(self.added)}.")
        if kept:
            lines.append(f"Kept from the real environment, which wins: {', '.join(kept)}.")
        return lines


def load_env_files(
    named: Sequence[str],
    environ: MutableMapping[str, str] | None = None,
    base_dir: Path | None = None,
) -> LoadedEnv:
    """Read the env files this command means and fill in `environ` (os.environ) from them."""
    environ = os.environ if environ is None else environ
    files = tuple(read_env_file(path) for path in chosen_env_files(named, base_dir))
    values = merged(files)
    added = fill_in(environ, values)
    return LoadedEnv(files, values, tuple(added))


def read_for_command(named: Sequence[str]) -> LoadedEnv:
    """The env files of a command that starts processes, read into os.environ.

    A child of the runner reads none: the runner read them and gave each child their
    values (and `.env` is not the file to read when the runner was given --env-file).
    """
    if RUNNER_PID in os.environ:
        return LoadedEnv((), {}, ())
    return load_env_files(named, base_dir=project_base_dir())


def dry_run_lines(loaded: LoadedEnv) -> list[str]:
    """What a dry run shows of the files: the summary, then each variable, secrets masked."""
    shown = [
        mask_secrets(f"  {name}={shlex.quote(value)}")
        + ("" if name in loaded.added else "  # the real environment's value is kept")
        for name, value in loaded.values.items()
    ]
    return [*loaded.summary(), *shown]
