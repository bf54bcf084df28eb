from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import django
import pytest

from tests.brokers import redis_server
from tests.support import Project, Running, free_port, write_documented_package, write_project

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

ENGINES = Path(__file__).resolve().parent / "engines"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engines",
        action="store_true",
        help="Also run tests/engines: every export on its engine (root; own dockerd, podman). "
        "scripts/test runs them in a step of their own.",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/engines only with --engines, or when named on the command line."""
    if collection_path != ENGINES or config.getoption("engines"):
        return None
    named = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return not any(path == ENGINES or ENGINES in path.parents for path in named)


@pytest.fixture(scope="session", autouse=True)
def documented_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`myproject.wsgi` and `myproject.asgi` importable here, as the plans' tests name them."""
    folder = tmp_path_factory.mktemp("documented")
    write_documented_package(folder)
    sys.path.append(str(folder))
    yield
    sys.path.remove(str(folder))


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Project]:
    def make(processes: Any, extra: str = "") -> Project:
        return write_project(tmp_path, processes, extra)

    return make


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def started() -> Iterator[list[Running]]:
    """Processes a test started; whatever is left is killed, whole session, at the end."""
    running: list[Running] = []
    yield running
    for process in running:
        process.kill()


@pytest.fixture
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a redis-server started for this test alone."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def postgres() -> Iterator[dict[str, str]]:
    """The connection of a PostgreSQL cluster started for this test alone."""
    from tests.brokers import postgres_server

    with postgres_server() as connection:
        yield connection
