"""gunicorn: options from gunicorn's own settings registry, served inside this process."""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import tempfile
from collections.abc import Mapping, MutableMapping, Sequence
from functools import cache
from typing import Any, NoReturn

from django_prodserver.applications import asgi_application, wsgi_application
from django_prodserver.backends.base import Address, Backend, Plan
from django_prodserver.backends.web_server import ServerBackend
from django_prodserver.errors import MissingPackageError, OptionError
from django_prodserver.liveness.http import warmup_request
from django_prodserver.options import Option, OptionTable, OptionValue, normalize
from django_prodserver.packages import pip_line
from django_prodserver.suggestions import classes_of, did_you_mean

# Worker classes that serve an ASGI application: gunicorn's own `asgi`, uvicorn's.
ASGI_WORKER_PACKAGES = ("uvicorn_worker.", "uvicorn.workers.")
# Packages that gunicorn's worker classes import, and the extra that brings each.
WORKER_PACKAGES = {
    "gevent": "gevent",
    "packaging": "gevent",
    "tornado": "tornado",
    "uvicorn_worker": "uvicorn-worker",
    "uvicorn": "uvicorn-worker",
}
# gunicorn's settings without a command-line form belong in a config file, except this
# one: the application, which is the command line's positional argument.
APPLICATION_SETTING = "wsgi_app"
# Where gunicorn listens when nothing says otherwise. gunicorn's registry holds
# 0.0.0.0:$PORT instead if $PORT was set when it was imported; the plan already names that
# address whenever the process's $PORT is set, so the registry's value is not the one.
DEFAULT_BIND = "127.0.0.1:8000"


@cache
def option_table() -> OptionTable:
    """Every gunicorn setting that has a command-line form, under all of its names."""
    from gunicorn.config import KNOWN_SETTINGS

    options = []
    for setting in KNOWN_SETTINGS:
        if not setting.cli:
            continue
        flags = tuple(setting.cli)
        if setting.action == "store_const" and setting.const is False:
            options.append(Option(setting.name, negative_flags=flags, takes_value=False))
        elif setting.action == "store_true":
            options.append(Option(setting.name, flags=flags, takes_value=False))
        else:
            options.append(
                Option(
                    setting.name,
                    flags=flags,
                    repeatable=setting.action == "append",
                    optional_value=setting.nargs == "?",
                )
            )
    return OptionTable("gunicorn", options)


def setting_default(name: str) -> Any:
    from gunicorn.config import KNOWN_SETTINGS

    return next(setting.default for setting in KNOWN_SETTINGS if setting.name == name)


@cache
def file_only_settings() -> frozenset[str]:
    from gunicorn.config import KNOWN_SETTINGS

    return frozenset(normalize(s.name) for s in KNOWN_SETTINGS if not s.cli)


def serves_asgi(options: Sequence[OptionValue]) -> bool:
    """Whether the worker class serves ASGI (`uvicorn_worker.UvicornWorker`, gunicorn's `asgi`)."""
    worker_class = next(
        (item.values[-1] for item in options if item.option.key == "worker_class"), ""
    )
    return worker_class == "asgi" or worker_class.startswith(ASGI_WORKER_PACKAGES)


class GunicornServer(ServerBackend):
    """A WSGI server with pre-forked workers (`gunicorn`); ASGI with an ASGI worker class."""

    server = "gunicorn"
    module = "gunicorn"
    extra = "gunicorn"
    address_options = ("bind",)
    port_defaults = {"bind": "0.0.0.0:{port}"}  # noqa: RUF012 - read only
    takes_sockets = True
    workers_option = "workers"
    # With reuse_port, gunicorn's workers each bind the configured address themselves.
    replaced_by_sockets = ("reuse_port",)

    def option_table(self) -> OptionTable:
        return option_table()

    def socket_options(self, fds: Sequence[int]) -> Mapping[str, object]:
        return {"bind": [f"fd://{fd}" for fd in fds]}

    def socket_unit_settings(self, plan: Plan) -> Mapping[str, str]:
        backlog = plan.value("backlog") or str(setting_default("backlog"))
        umask = plan.value("umask") or str(setting_default("umask"))
        try:  # gunicorn binds a unix socket under its `umask` (0: every one may connect)
            mode = 0o777 & ~int(umask, 0)
        except ValueError:
            return {"Backlog": backlog}
        return {"Backlog": backlog, "SocketMode": f"{mode:04o}"}

    def application(self, options: Sequence[OptionValue]) -> str:
        if serves_asgi(options):
            return asgi_application(self.name)
        return wsgi_application(self.name)

    def served_interface(self, plan: Plan) -> str:
        return "asgi" if serves_asgi(plan.options) else "wsgi"

    def plan(self, overrides: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Plan:
        # gunicorn chooses its default control socket's folder when gunicorn.config is first
        # imported, which planning does: the folder must exist by then.
        place_control_socket(self.name, os.environ)
        return super().plan(overrides, env)

    def run(self, plan: Plan) -> int | None:
        from django_prodserver.serving.gunicorn import serve

        return serve(plan, warmup=warmup_request(self, plan))

    def warms_up(self, plan: Plan) -> bool:
        # The warm-up is a WSGI call; an ASGI worker class loads an ASGI application.
        return self.application(plan.options) == wsgi_application(self.name)

    def graceful_timeout(self, plan: Plan) -> float | None:
        given = plan.value("graceful_timeout")
        return float(given) if given else float(setting_default("graceful_timeout"))

    def address_elsewhere(self, options: Sequence[OptionValue]) -> bool:
        """A config file (`config`, or ./gunicorn.conf.py, which gunicorn reads by itself)
        or GUNICORN_CMD_ARGS may hold a `bind`."""
        return (
            any(item.option.key == "config" for item in options)
            or os.path.exists("gunicorn.conf.py")
            or bool(os.environ.get("GUNICORN_CMD_ARGS", "").strip())
        )

    def listen_address(self, plan: Plan) -> Address | None:
        binds = plan.values("bind") or (DEFAULT_BIND,)
        return Address.parse(binds[0], default_port=8000)

    def runtime_files(self, plan: Plan) -> str | None:
        """gunicorn 25.1 and later: its control socket, unless the options place or disable it."""
        if not any(option.key == "control_socket" for option in option_table().options):
            return None
        if plan.value("control_socket") or plan.switched_on("control_socket_disable"):
            return None
        return "gunicorn's control socket"

    def environment_beside(self, others: Sequence[Backend]) -> Mapping[str, str]:
        if not any(isinstance(other, GunicornServer) for other in others):
            return {}
        return own_control_socket_environment(self.name, os.environ)

    def configured_options(self, table: OptionTable) -> tuple[list[OptionValue], list[str]]:
        args = self.spec.args
        if not isinstance(args, Mapping):
            return table.from_argv(args, self.name)
        args = dict(args)
        named = [key for key in args if normalize(key) == normalize(APPLICATION_SETTING)]
        application = [str(value) for value in map(args.pop, named) if value is not None]
        for key in args:
            if normalize(key) in file_only_settings():
                raise OptionError(
                    f"Process '{self.name}': gunicorn's `{key}` has no command-line form, so it "
                    f"cannot go in ARGS. Set it in a gunicorn config file (gunicorn.conf.py) "
                    f'and point ARGS at that file: "config": "gunicorn.conf.py".'
                )
        return table.from_mapping(args, self.name), application

    def validate(self, argv: Sequence[str]) -> None:
        """Read the argv with gunicorn's own parser and validators, as `gunicorn` would."""
        from gunicorn.config import Config

        config = Config()
        parser = config.parser()
        parser.error = self._parser_error
        parsed = parser.parse_args(list(argv))
        for key, value in vars(parsed).items():
            if value is None or key == "args":
                continue
            try:
                config.set(key, value)
            except Exception as error:  # gunicorn's validators raise several kinds.
                shown = ", ".join(map(str, value)) if isinstance(value, list) else value
                raise OptionError(
                    f"Process '{self.name}': invalid value for gunicorn's `{key}` "
                    f"({shown}): {error}"
                ) from None
        check_worker_class(self.name, config)

    def _parser_error(self, message: str) -> NoReturn:
        raise OptionError(f"Process '{self.name}': gunicorn rejects the options: {message}.")


def check_worker_class(process: str, config: Any) -> None:
    """Import the worker class now, so a missing package is an error before anything starts."""
    from gunicorn import __version__ as gunicorn_version
    from gunicorn.workers import SUPPORTED_WORKERS

    name = config.worker_class_str
    if not isinstance(name, str):
        return
    if name == "eventlet" and name not in SUPPORTED_WORKERS:
        raise OptionError(
            f"Process '{process}': gunicorn {gunicorn_version} has no eventlet worker "
            f"(gunicorn 26 removed it). Use `gevent` instead: {pip_line('gevent')}"
        )
    path = SUPPORTED_WORKERS.get(name, name)
    module, _, attribute = path.rpartition(".")
    if module and not path.startswith("egg:"):
        try:
            loaded = importlib.import_module(module)
        except (ImportError, RuntimeError) as error:
            # gunicorn's gevent worker turns the ImportError into a RuntimeError.
            not_found = error if isinstance(error, ModuleNotFoundError) else error.__context__
            if not isinstance(not_found, ModuleNotFoundError):
                raise OptionError(
                    f"Process '{process}': gunicorn cannot load the worker class `{name}`: {error}"
                ) from error
            missing = (not_found.name or module).split(".")[0]
            extra = WORKER_PACKAGES.get(missing)
            fix = pip_line(extra) if extra else f"pip install {missing}"
            raise MissingPackageError(
                f"Process '{process}': gunicorn's worker class `{name}` needs the package "
                f"'{missing}', which is not installed.\nInstall it with: {fix}"
            ) from None
        if not isinstance(getattr(loaded, attribute, None), type):
            raise OptionError(
                f"Process '{process}': gunicorn's worker class `{name}` does not exist: the "
                f"module `{module}` has no class `{attribute}`"
                f"{did_you_mean(attribute, classes_of(loaded))}."
            )
    try:
        config.worker_class  # noqa: B018 - gunicorn loads (and sets up) the class here.
    except RuntimeError as error:
        first_line = str(error).strip().splitlines()[0].rstrip(": ")
        raise OptionError(
            f"Process '{process}': gunicorn cannot load the worker class `{name}`: "
            f"{first_line}{did_you_mean(name, SUPPORTED_WORKERS)}. Use one of "
            f"{', '.join(SUPPORTED_WORKERS)} or a dotted path to a worker class."
        ) from None


def place_control_socket(process: str, environ: MutableMapping[str, str]) -> None:
    """A folder for gunicorn's default control socket that this user can write.

    The folder of `own_control_socket_environment`, when this process was given it, is
    made. Where gunicorn's default is not this user's to write (supervisord's `user=`
    switches the user but keeps supervisord's HOME and XDG_RUNTIME_DIR, so gunicorn logs
    "[ERROR] Control server error: Permission denied" at every start), the process gets a
    folder of its own in the temporary folder, which only its user can enter.
    """
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if os.path.basename(runtime) == f"prodserver-{process}":
        with contextlib.suppress(OSError):
            os.makedirs(runtime, mode=0o700, exist_ok=True)
    if default_control_folder_is_writable(environ):
        return
    folder = tempfile.mkdtemp(prefix=f"prodserver-{process}-")
    atexit.register(remove_if_empty, folder)
    environ["XDG_RUNTIME_DIR"] = folder


def default_control_folder_is_writable(environ: Mapping[str, str]) -> bool:
    """Whether gunicorn can put its control socket where it would by default."""
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return writable_folder(runtime)
    # gunicorn's ~ (expanduser reads HOME, then the user's passwd entry).
    home = environ.get("HOME") or os.path.expanduser("~")
    gunicorn_folder = os.path.join(home, ".gunicorn")
    if os.path.isdir(gunicorn_folder):
        return writable_folder(gunicorn_folder)
    return not os.path.lexists(gunicorn_folder) and writable_folder(
        os.path.dirname(gunicorn_folder)
    )


def writable_folder(path: str) -> bool:
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def remove_if_empty(folder: str) -> None:
    with contextlib.suppress(OSError):
        os.rmdir(folder)


def own_control_socket_environment(process: str, environ: Mapping[str, str]) -> dict[str, str]:
    """An `XDG_RUNTIME_DIR` of the process's own, where gunicorn puts its control socket.

    gunicorn's default control socket is `$XDG_RUNTIME_DIR/gunicorn.ctl` (when that
    directory exists), else `~/.gunicorn/gunicorn.ctl`: one path per user, which the
    last gunicorn started takes over. A directory per process, beside that default,
    keeps the default: an explicit `control-socket` (ARGS, a config file,
    GUNICORN_CMD_ARGS) still wins.
    """
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        base = runtime
    else:
        base = os.path.join(os.path.expanduser("~"), ".gunicorn")
    return {"XDG_RUNTIME_DIR": os.path.join(base, f"prodserver-{process}")}
