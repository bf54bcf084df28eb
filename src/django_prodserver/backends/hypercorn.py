"""hypercorn: options from the parser hypercorn's `main()` builds; `hypercorn` runs it.

hypercorn has no function that returns its parser: `hypercorn.__main__.main()` builds
an argparse parser, parses, copies each value onto a `Config`, then serves it. So this
module runs hypercorn's own `main()` code with two of its global names replaced:
`argparse`, whose `ArgumentParser` raises instead of printing usage and exiting, and
`run`, which keeps the `Config` instead of serving it. Nothing global is patched and
nothing binds a socket. The options are hypercorn's, not a copy kept by hand; so is
the mapping from each option to its `Config` name (`--keep-alive` sets
`keep_alive_timeout`), read from `main()`'s source.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import inspect
import logging
import textwrap
import types
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any, NoReturn

from django_prodserver.backends.base import Address, Plan
from django_prodserver.backends.web_server import ServerBackend
from django_prodserver.errors import MissingPackageError, OptionError
from django_prodserver.options import OptionTable, OptionValue, normalize
from django_prodserver.options.from_argparse import argparse_option_table
from django_prodserver.suggestions import did_you_mean

if TYPE_CHECKING:
    from hypercorn.config import Config

RUNTIME_MODULE = "django_prodserver.serving.hypercorn"
# hypercorn's worker classes (the choices of `hypercorn.run.run`) and the package each needs.
WORKER_CLASSES = {"asyncio": None, "uvloop": "uvloop", "trio": "trio"}


class ParserError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class RaisingParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ParserError(self, message)


def hypercorn_main(run: Callable[[Config], int]) -> Callable[[list[str]], int]:
    """hypercorn's `main()`, its parser raising ParserError and `run` replaced."""
    from hypercorn import __main__ as module

    raising_argparse = types.SimpleNamespace(**{**vars(argparse), "ArgumentParser": RaisingParser})
    namespace = {**vars(module), "argparse": raising_argparse, "run": run}
    main = module.main
    return types.FunctionType(main.__code__, namespace, main.__name__, main.__defaults__)


def _not_run(config: Config) -> NoReturn:
    raise RuntimeError("hypercorn's main() accepted a command line without an application")


@cache
def hypercorn_parser() -> argparse.ArgumentParser:
    """The parser `main()` builds, caught as it rejects a command line without an application."""
    try:
        hypercorn_main(_not_run)(["--"])
    except ParserError as error:
        return error.parser
    raise RuntimeError("hypercorn's main() did not reject a command line without an application")


@cache
def config_names() -> dict[str, str]:
    """Option dest -> `Config` name, from `main()`'s `if args.DEST ...: config.NAME = ...`.

    When two options set the same `Config` name (`--access-log`, deprecated, and
    `--access-logfile`), the one `main()` applies last owns the name, as it wins there.
    """
    from hypercorn import __main__ as module

    try:
        source = textwrap.dedent(inspect.getsource(module.main))
    except (OSError, TypeError):
        return {}
    function = ast.parse(source).body[0]
    if not isinstance(function, ast.FunctionDef):
        return {}
    owners: dict[str, str] = {}
    for statement in function.body:
        if not isinstance(statement, ast.If):
            continue
        tested = {name for node in ast.walk(statement.test) if (name := _attribute(node, "args"))}
        assigned = {
            name
            for line in statement.body
            if isinstance(line, ast.Assign)
            for target in line.targets
            if (name := _attribute(target, "config"))
        }
        if len(tested) == 1 and len(assigned) == 1:
            owners[assigned.pop()] = tested.pop()
    return {dest: name for name, dest in owners.items()}


def _attribute(node: ast.AST, owner: str) -> str | None:
    """`NAME` when `node` is `owner.NAME`."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.attr if node.value.id == owner else None
    return None


@cache
def option_table() -> OptionTable:
    return argparse_option_table("hypercorn", hypercorn_parser(), config_names())


@cache
def file_only_settings() -> frozenset[str]:
    """`Config` names that no command-line option sets: they belong in a config file."""
    from hypercorn.config import Config

    names = set()
    for name, value in vars(Config).items():
        if name.startswith("_") or isinstance(value, (classmethod, staticmethod, property)):
            continue
        if not inspect.isfunction(value):
            names.add(normalize(name))
    return frozenset(names - set(option_table().names()))


class HypercornServer(ServerBackend):
    """An ASGI server (`hypercorn`): HTTP/1, HTTP/2, WebSockets; `workers` processes."""

    server = "hypercorn"
    module = "hypercorn"
    extra = "hypercorn"
    interface = "asgi"
    address_options = ("bind",)
    port_defaults = {"bind": "0.0.0.0:{port}"}  # noqa: RUF012 - read only
    takes_sockets = True
    workers_option = "workers"
    # The other places hypercorn listens: inherited sockets are the only ones.
    replaced_by_sockets = ("insecure_bind", "quic_bind")

    def option_table(self) -> OptionTable:
        return option_table()

    def socket_unit_settings(self, plan: Plan) -> Mapping[str, str]:
        from hypercorn.config import Config

        return {"Backlog": plan.value("backlog") or str(Config.backlog)}

    def socket_options(self, fds: Sequence[int]) -> Mapping[str, object]:
        return {"bind": [f"fd://{fd}" for fd in fds]}

    def graceful_timeout(self, plan: Plan) -> float | None:
        from hypercorn.config import Config

        given = plan.value("graceful_timeout")
        return float(given) if given else float(Config.graceful_timeout)

    def listen_address(self, plan: Plan) -> Address | None:
        from hypercorn.config import Config

        binds = plan.values("bind") or Config().bind
        return Address.parse(binds[0], default_port=8000)

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        # The dry-run line stays `hypercorn ...`; this process runs it through a module
        # that stops the workers if a SIGTERM comes while they start (serving.hypercorn).
        return replace(super().plan(overrides, env), module=RUNTIME_MODULE)

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        args = self.spec.args
        for key in args if isinstance(args, Mapping) else ():
            if isinstance(key, str) and normalize(key) in file_only_settings():
                raise OptionError(
                    f"Process '{self.name}': hypercorn's `{key}` has no command-line form, so it "
                    f"cannot go in ARGS. Set it in a hypercorn config file (hypercorn.toml) "
                    f'and point ARGS at that file: "config": "hypercorn.toml".'
                )
        return super().configured_options(table)

    def validate(self, argv: Sequence[str]) -> None:
        """Run hypercorn's `main()` up to serving: its parser, its config file, its `Config`."""
        configs: list[Config] = []

        def keep(config: Config) -> int:
            configs.append(config)
            return 0

        with warnings.catch_warnings():  # hypercorn warns of deprecated options when it runs.
            warnings.simplefilter("ignore")
            try:
                hypercorn_main(keep)(list(argv))
            except ParserError as error:
                raise OptionError(
                    f"Process '{self.name}': hypercorn rejects the options: {error.message}."
                ) from None
            except Exception as error:  # a config file that cannot be read, a bad cert-reqs
                raise OptionError(
                    f"Process '{self.name}': hypercorn rejects the configuration: "
                    f"{type(error).__name__}: {error}"
                ) from None
        check_config(self.name, configs[0])


def check_config(process: str, config: Config) -> None:
    """What hypercorn checks only in its worker processes, which then exit with status 0."""
    worker_class = config.worker_class
    if worker_class not in WORKER_CLASSES:
        raise OptionError(
            f"Process '{process}': hypercorn has no worker class `{worker_class}`"
            f"{did_you_mean(str(worker_class), WORKER_CLASSES)}; use one of "
            f"{', '.join(WORKER_CLASSES)}."
        )
    package = WORKER_CLASSES[worker_class]
    if package and importlib.util.find_spec(package) is None:
        raise MissingPackageError(
            f"Process '{process}': hypercorn's worker class `{worker_class}` needs the package "
            f"'{package}', which is not installed.\n"
            f"Install it with: pip install 'hypercorn[{package}]'"
        )
    level: Any = config.loglevel
    if level is not None and not isinstance(logging.getLevelName(str(level).upper()), int):
        raise OptionError(
            f"Process '{process}': hypercorn's `loglevel` is a logging level (debug, info, "
            f"warning, error, critical), got '{level}'."
        )
    if config.use_reloader and config.workers == 0:
        raise OptionError(
            f"Process '{process}': hypercorn cannot reload without workers: "
            f"`reload` needs `workers` of 1 or more."
        )
