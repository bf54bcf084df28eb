"""Every configuration example in docs/ runs through the real `prodserver` command.

- A ```python block that assigns `PRODUCTION_PROCESSES` is executed; each of its processes
  must pass `prodserver NAME --dry-run`, with the block's other settings (a worker's
  RQ_QUEUES, HUEY, ...) on top of the example project's.
- A ```python block that is only an `"ARGS": {...}` fragment is wrapped into a gunicorn
  process and checked the same way.
- "This translates to:" followed by a ```bash block: the `gunicorn ...` line must be exactly
  what `--dry-run` prints for the python block just above it.
- A ```console block: each `$ python manage.py prodserver ... --dry-run` (or `--list`, or
  `--export FORMAT`, whose files the deploy guides show) must
  print exactly the lines under it, for the nearest settings block above it on the page.
- A ```python block headed `# gunicorn.conf.py` holds gunicorn settings only, and gunicorn's
  `--check-config` accepts it. One headed `# some/module.py` is written into the project, so
  the settings blocks of its page can name the classes it defines.
- Any other ```python block must at least execute.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import Project, write_documented_package, write_project

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUNICORN = "django_prodserver.backends.gunicorn.GunicornServer"
DOCUMENTED_WSGI = (
    'WSGI_APPLICATION = "myproject.wsgi.application"\n'
    'ASGI_APPLICATION = "myproject.asgi.application"'
)
TRANSLATES = "This translates to:"
DOCUMENTED_SETTINGS = "myproject.settings"
DOCUMENTED_REQUIREMENTS = "django-prodserver[gunicorn]\n"

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,})(?P<info>.*)$")
MODULE_HEADER = re.compile(r"^#\s*(?P<path>[\w.]+(?:/[\w.]+)+\.py)\s*$")
CONFIG_HEADER = re.compile(r"^#\s*(?P<path>gunicorn\.conf\.py)\s*$")


@dataclass(frozen=True)
class Block:
    """A fenced code block of a docs page."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str
    text: str
    prose_before: str  # the page's text between the previous block and this one

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def first_line(self) -> str:
        return self.text.strip().splitlines()[0] if self.text.strip() else ""

    @property
    def kind(self) -> str:
        if self.language != "python":
            return self.language
        if "PRODUCTION_PROCESSES = " in self.text:
            return "settings"
        code = [line.strip() for line in self.text.splitlines()]
        code = [line for line in code if line and not line.startswith("#")]
        if code and code[0].startswith('"ARGS":'):
            return "fragment"
        if CONFIG_HEADER.match(self.first_line):
            return "gunicorn-config"
        if MODULE_HEADER.match(self.first_line):
            return "module"
        return "python"


def read_blocks(path: Path) -> list[Block]:
    blocks: list[Block] = []
    lines = path.read_text().splitlines()
    prose: list[str] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            prose.append(lines[index])
            index += 1
            continue
        fence, info = opening["fence"], opening["info"].strip()
        body: list[str] = []
        end = index + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence) and not lines[end].strip().strip("`")
        ):
            body.append(lines[end])
            end += 1
        language = info.split()[0] if info else ""
        blocks.append(Block(path, index + 1, language, "\n".join(body) + "\n", "\n".join(prose)))
        prose = []
        index = end + 1
    return blocks


def all_blocks() -> list[Block]:
    return [block for page in sorted(DOCS.glob("*.md")) for block in read_blocks(page)]


BLOCKS = all_blocks()


def of_kind(kind: str) -> list[Block]:
    return [block for block in BLOCKS if block.kind == kind]


def params(blocks: list[Any]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("block", blocks, ids=[b.id for b in blocks])


# Reading examples


def processes_of(block: Block) -> dict[str, Any]:
    """PRODUCTION_PROCESSES as a settings block defines it, or a fragment wrapped into `web`."""
    if block.kind == "fragment":
        definition = ast.literal_eval("{" + block.text + "}")
        return {"web": {"BACKEND": page_backend(block.path), **definition}}
    namespace: dict[str, Any] = {}
    exec(compile(block.text, block.id, "exec"), namespace)
    processes = namespace["PRODUCTION_PROCESSES"]
    assert isinstance(processes, Mapping), f"{block.id}: PRODUCTION_PROCESSES is not a dict"
    assert processes, f"{block.id}: PRODUCTION_PROCESSES is empty"
    return dict(processes)


def page_backend(page: Path) -> str:
    """The BACKEND of a page's first settings example: what its ARGS fragments are for."""
    for block in read_blocks(page):
        if block.kind == "settings":
            match = re.search(r'"BACKEND": "([\w.]+)"', block.text)
            if match:
                return match[1]
    return GUNICORN


def write_modules(directory: Path, page: Path) -> None:
    """The page's `# package/module.py` blocks, as files of the project (with packages)."""
    for block in read_blocks(page):
        if block.kind != "module":
            continue
        match = MODULE_HEADER.match(block.first_line)
        assert match is not None
        target = directory / match["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        for package in [target.parent, *target.parent.parents]:
            if package == directory or directory not in package.parents:
                break
            (package / "__init__.py").touch()
        target.write_text(block.text)


def project_for(directory: Path, block: Block, extra: str = "") -> Project:
    write_documented_package(directory)  # before the page's own modules, which may replace it
    write_modules(directory, block.path)
    if block.kind == "settings":
        # What the block sets beside the processes (a worker's RQ_QUEUES, HUEY, ...) too.
        extra = f"{extra}\n{block.text}"
    return write_project(directory, processes_of(block), extra)


def skip_if_accounts_are_missing(processes: Mapping[str, Any]) -> None:
    """gunicorn checks that `user` and `group` exist: the examples use Debian's www-data."""
    import grp
    import pwd

    missing = []
    for definition in processes.values():
        args = definition.get("ARGS")
        if not isinstance(args, Mapping):
            continue
        for key, lookup in (("user", pwd.getpwnam), ("group", grp.getgrnam)):
            value = args.get(key)
            if isinstance(value, str) and not value.isdigit():
                try:
                    lookup(value)
                except KeyError:
                    missing.append(f"{key} {value!r}")
    if missing:
        pytest.skip(f"this machine has no {' and no '.join(missing)}")


def dry_run(project: Project, name: str, *options: str) -> str:
    result = project.manage("prodserver", name, "--dry-run", *options)
    assert result.returncode == 0, (
        f"prodserver {name} --dry-run exited {result.returncode}:\n{result.stderr}{result.stdout}"
    )
    return result.stdout.strip()


def python_block_above(block: Block) -> Block:
    above = [
        b
        for b in read_blocks(block.path)
        if b.language == "python" and b.line < block.line and b.kind in ("settings", "fragment")
    ]
    assert above, f"{block.id}: no python example above this {TRANSLATES!r}"
    return above[-1]


def translations() -> list[Block]:
    found = []
    for block in BLOCKS:
        if block.language == "bash" and block.prose_before.strip().endswith(TRANSLATES):
            found.append(block)
    return found


@dataclass(frozen=True)
class ConsoleCommand:
    block: Block
    argv: tuple[str, ...]
    output: str

    @property
    def id(self) -> str:
        return f"{self.block.id}:{' '.join(self.argv)}"


def console_commands() -> list[ConsoleCommand]:
    """`$ python manage.py prodserver ... --dry-run|--list|--export` lines of console blocks
    (and `devserver ... --dry-run`)."""
    commands = []
    for block in of_kind("console"):
        sessions = re.split(r"^\$ ", block.text, flags=re.MULTILINE)
        for session in sessions[1:]:
            command, _, output = session.partition("\n")
            words = shlex.split(command)
            if words[:2] != ["python", "manage.py"]:
                continue
            argv = tuple(words[2:])
            if argv[:1] in (("prodserver",), ("server",), ("worker",), ("devserver",)) and (
                "--dry-run" in argv or "--list" in argv or "--export" in argv
            ):
                commands.append(ConsoleCommand(block, argv, output.rstrip("\n")))
    return commands


def settings_block_above(block: Block) -> Block:
    above = [b for b in read_blocks(block.path) if b.kind == "settings" and b.line < block.line]
    assert above, f"{block.id}: no PRODUCTION_PROCESSES example above this console block"
    return above[-1]


# The tests


@params(of_kind("settings"))
def test_settings_example_passes_dry_run(block: Block, tmp_path: Path) -> None:
    skip_if_accounts_are_missing(processes_of(block))
    project = project_for(tmp_path, block)
    for name in processes_of(block):
        dry_run(project, name)


@params(of_kind("fragment"))
def test_args_fragment_passes_dry_run(block: Block, tmp_path: Path) -> None:
    skip_if_accounts_are_missing(processes_of(block))
    dry_run(project_for(tmp_path, block), "web")


@params(translations())
def test_translation_is_what_dry_run_prints(block: Block, tmp_path: Path) -> None:
    lines = [line for line in block.text.splitlines() if line.strip() and line[0] != "#"]
    assert len(lines) == 1, f"{block.id}: expected one command line, got {lines}"
    example = python_block_above(block)
    processes = processes_of(example)
    assert len(processes) == 1, f"{example.id}: a translated example defines one process"
    project = project_for(tmp_path, example, extra=DOCUMENTED_WSGI)
    assert dry_run(project, next(iter(processes))) == lines[0]


@pytest.mark.parametrize("command", console_commands(), ids=lambda c: c.id)
def test_console_example_prints_what_it_shows(command: ConsoleCommand, tmp_path: Path) -> None:
    project = project_for(tmp_path, settings_block_above(command.block), extra=DOCUMENTED_WSGI)
    # The settings module the pages' projects run with, which the exports write down.
    make_settings_module(tmp_path, DOCUMENTED_SETTINGS, project.module)
    project = dataclasses.replace(project, module=DOCUMENTED_SETTINGS)
    for option in command.argv:
        if option.startswith("--settings="):
            make_settings_module(tmp_path, option.partition("=")[2], project.module)
    if "dockerfile" in command.argv:
        project = project_with_requirements(project)
    result = project.manage(*command.argv)
    assert result.returncode == 0, f"{command.id} exited {result.returncode}:\n{result.stderr}"
    assert result.stdout.rstrip("\n") == command.output


def project_with_requirements(project: Project) -> Project:
    """The project's manage.py in a folder of its own, with the requirements.txt the pages
    show (the example project's installs this checkout's wheel), its database outside."""
    folder = project.directory / "project"
    folder.mkdir()
    shutil.copy(project.manage_py, folder / "manage.py")
    (folder / "requirements.txt").write_text(DOCUMENTED_REQUIREMENTS)
    return dataclasses.replace(project, manage_py=folder / "manage.py")


def make_settings_module(directory: Path, dotted: str, base: str) -> None:
    """A settings module called `dotted` with the project's settings."""
    *packages, module = dotted.split(".")
    folder = directory
    for package in packages:
        folder = folder / package
        folder.mkdir(exist_ok=True)
        (folder / "__init__.py").touch()
    (folder / f"{module}.py").write_text(f"from {base} import *  # noqa\n")


def assigned_names(source: str) -> list[str]:
    """The public names a Python file defines at its top level."""
    names: list[str] = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.extend(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [name for name in names if not name.startswith("_")]


@params(of_kind("gunicorn-config"))
def test_gunicorn_config_example(block: Block, tmp_path: Path) -> None:
    from gunicorn.config import KNOWN_SETTINGS

    settings = {setting.name for setting in KNOWN_SETTINGS}
    names = assigned_names(block.text)
    assert names, f"{block.id}: the config file sets nothing"
    unknown = sorted(set(names) - settings)
    assert not unknown, f"{block.id}: not gunicorn settings: {unknown}"
    (tmp_path / "gunicorn.conf.py").write_text(block.text)
    project = write_project(
        tmp_path, {"web": {"BACKEND": GUNICORN, "ARGS": {"config": "gunicorn.conf.py"}}}
    )
    result = project.manage("prodserver", "web", "--check-config")
    assert result.returncode == 0, f"--check-config exited {result.returncode}:\n{result.stderr}"


@params(of_kind("module"))
def test_module_example_is_used_by_a_settings_example(block: Block) -> None:
    match = MODULE_HEADER.match(block.first_line)
    assert match is not None
    dotted = match["path"].removesuffix(".py").replace("/", ".")
    users = [b for b in read_blocks(block.path) if b.kind == "settings" and f'"{dotted}.' in b.text]
    assert users, f"{block.id}: no settings example on this page uses {dotted}"


@params(of_kind("python"))
def test_other_python_example_executes(block: Block) -> None:
    exec(compile(block.text, block.id, "exec"), {})


def test_the_collectors_find_examples() -> None:
    """A collector that finds nothing would let every example above go untested."""
    assert BLOCKS, f"no code blocks found in {DOCS}"
    found = {
        "settings blocks": of_kind("settings"),
        "ARGS fragments": of_kind("fragment"),
        "translations": translations(),
        "console commands": console_commands(),
    }
    empty = [name for name, blocks in found.items() if not blocks]
    assert not empty, f"no {', no '.join(empty)} found in {DOCS}"


def test_every_translation_is_collected() -> None:
    """Each "This translates to:" must be followed by a ```bash block, or it goes untested."""
    written = sum(page.read_text().count(TRANSLATES) for page in DOCS.glob("*.md"))
    assert written == len(translations())
