"""The shape docs/architecture.md describes: imports run one way, servers stay in their modules."""

from __future__ import annotations

import ast
from pathlib import Path

import django_prodserver

PACKAGE = Path(django_prodserver.__file__).resolve().parent
PREFIX = "django_prodserver"
# The modules a BACKEND path names (one per server or framework).
SERVERS = (
    "gunicorn",
    "uvicorn",
    "granian",
    "waitress",
    "daphne",
    "hypercorn",
    "celery",
    "database_tasks",
    "concurrent_tasks",
    "redis_tasks",
    "procrastinate",
    "tasks",
    "django_q2",
    "rq",
    "dramatiq",
    "huey",
    "django_runserver",
    "werkzeug",
)

# Modules that only keep an old BACKEND path working.
OLD_PATHS = ("django_tasks",)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module of the package that `path` imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in PACKAGE.rglob("*.py")}


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        if module in path:
            cycle = (*path[path.index(module) :], module)
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for imported in graph.get(module, ()):
            # A package's __init__ is imported on the way to its modules: not an edge back.
            if not module.startswith(imported + "."):
                visit(imported, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())


def test_no_module_outside_a_servers_own_names_that_server():
    for module, imported in import_graph().items():
        for server in SERVERS:
            backend = f"{PREFIX}.backends.{server}"
            own = {backend, f"{PREFIX}.serving.{server}", f"{PREFIX}.options.{server}"}
            if module in own or module.startswith(f"{PREFIX}.backends.{server}."):
                continue
            # The legacy packages (and `dev`) re-export the backends under their old paths, as
            # `backends.django_tasks` does the database task worker.
            legacy = ("servers", "workers", "dev", "django_tasks")
            if module.startswith(tuple(f"{PREFIX}.backends.{sub}" for sub in legacy)):
                continue
            assert backend not in imported, f"{module} imports {backend}"


def test_backends_holds_only_backends_and_their_bases():
    helpers = [
        path.name
        for path in (PACKAGE / "backends").glob("*.py")
        if path.stem
        not in (
            *SERVERS,
            *OLD_PATHS,
            "release",
            "__init__",
            "base",
            "web_server",
            "management_command",
            "task_framework",
        )
    ]
    assert helpers == []


def test_serving_code_is_never_imported_to_plan():
    """Only a backend's run() imports its serving module, inside the function."""
    for path in PACKAGE.rglob("*.py"):
        if module_name(path).startswith(f"{PREFIX}.serving"):
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(f"{PREFIX}.serving"), path


# What runs a command, above the backends and the code that serves: the commands and what
# only they use. A backend or a serving module that imported one would run back up the layers.
COMMAND_LAYER = (
    "management",
    "runner",
    "development",
    "exports",
    "invocation",
    "choosing",
    "modes",
    "planning",
    "checks",
    "release",
    "listing",
    "environment",
    "liveness.probe",
)


def test_no_import_runs_back_up_from_the_backends_or_the_serving_code():
    upper = tuple(f"{PREFIX}.{name}" for name in COMMAND_LAYER)
    for module, imported in import_graph().items():
        if not module.startswith((f"{PREFIX}.backends", f"{PREFIX}.serving")):
            continue
        wrong = sorted(name for name in imported if name.startswith(upper))
        assert wrong == [], f"{module} imports {', '.join(wrong)}"
