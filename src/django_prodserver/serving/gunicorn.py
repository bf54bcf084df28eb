"""gunicorn's arbiter, run inside the `manage.py` process.

Django is already imported here, so the forked workers share its pages with the
master (bench/ measures the total against the `gunicorn` command). gunicorn's own
classes read the same argv that `--dry-run` prints.
"""

from __future__ import annotations

import atexit
import gc
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import FrameType
from typing import Any, NoReturn

from django.db import connections
from django.urls import get_resolver
from gunicorn.app.wsgiapp import WSGIApplication
from gunicorn.arbiter import Arbiter

from django_prodserver.applications import check_attribute
from django_prodserver.backends.base import Plan, exec_plan
from django_prodserver.errors import ApplicationError
from django_prodserver.liveness.http import WarmUp
from django_prodserver.serving.gunicorn_control import keep_a_successors_control_socket
from django_prodserver.serving.warmup import warm_up

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)
# The `gunicorn` command, for `reload` and `env`, and what tells it its sockets are inherited.
COMMAND_MODULE = "django_prodserver.serving.gunicorn_command"
INHERITED = "DJANGO_PRODSERVER_GUNICORN_INHERITED"


class DjangoGunicornApplication(WSGIApplication):  # type: ignore[misc]
    def __init__(self, argv: Sequence[str], inherited_sockets: bool = False) -> None:
        self.argv = list(argv)
        self.inherited_sockets = inherited_sockets
        super().__init__("%(prog)s [OPTIONS] [APP_MODULE]", prog="gunicorn")

    def run(self) -> None:
        if not self.inherited_sockets:
            super().run()
            return
        try:
            InheritedSocketsArbiter(self).run()
        except RuntimeError as error:  # as gunicorn's own run() reports it
            print(f"\nError: {error}\n", file=sys.stderr)
            sys.stderr.flush()
            sys.exit(1)

    def load_config(self) -> None:
        # gunicorn reads its command line from sys.argv. Lending it the planned argv makes
        # it read config files, GUNICORN_CMD_ARGS and options exactly as the `gunicorn`
        # command would. sys.argv is restored at once: on USR2 gunicorn re-executes
        # `manage.py prodserver ...` from it.
        saved = sys.argv
        sys.argv = ["gunicorn", *self.argv]
        try:
            super().load_config()
        finally:
            sys.argv = saved
        self.cfg.set("post_fork", keep_early_stop_signals(self.cfg.post_fork))


class InheritedSocketsArbiter(Arbiter):  # type: ignore[misc]
    """gunicorn's arbiter, leaving the file of an inherited unix socket in place when it stops.

    Given `fd://N`, gunicorn unlinks a unix socket's path as it stops unless systemd passed
    the socket through LISTEN_FDS, which prodserver has already read and removed. The
    socket belongs to systemd or the runner, which passes it to the next server: its path
    must stay.
    """

    def stop(self, graceful: bool = True) -> None:
        self.systemd = True  # gunicorn's own reason not to unlink the socket's file
        super().stop(graceful)


def keep_early_stop_signals(post_fork: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap gunicorn's post_fork hook so a worker never loses a stop signal while it boots.

    A forked worker runs the master's signal handlers until its own are installed (for
    the gevent worker, after monkey-patching, which takes a while). A SIGTERM that lands
    in that window is swallowed and the master then waits its whole graceful timeout
    (30 s) for the worker. Until its own handlers are in place, a worker that is told
    to stop leaves at once: it has not served anything yet, so nothing is cut short.
    """

    def post_fork_keeping_signals(arbiter: Any, worker: Any) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, leave_before_booting)
        post_fork(arbiter, worker)

    return post_fork_keeping_signals


def leave_before_booting(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def serve(plan: Plan, warmup: WarmUp | None = None) -> int | None:
    application = DjangoGunicornApplication(plan.argv[1:], bool(plan.inherited_fds))
    cfg = application.cfg
    if cfg.reload or cfg.raw_env:
        # Both need workers that import Django afresh: the reloader to pick up changed
        # code, `env` so that settings see its variables. The `gunicorn` command does that.
        exec_plan(as_gunicorn_command(plan))
    if not (cfg.check_config or cfg.print_config):
        load_before_fork(application, plan.process, warmup)
    keep_a_successors_control_socket()
    master = os.getpid()
    try:
        application.run()
    except SystemExit as leaving:
        if os.getpid() != master:
            end_forked_process(leaving.code)
        raise
    return None


def as_gunicorn_command(plan: Plan) -> Plan:
    env = {**plan.env, INHERITED: "1"} if plan.inherited_fds else plan.env
    return replace(plan, module=COMMAND_MODULE, env=env)


def end_forked_process(code: object) -> NoReturn:
    """End a worker here, as a worker of the `gunicorn` command ends.

    A forked worker inherited the master's stack, with the `manage.py` frames above
    this one; unwinding through them would run Django's clean-up (closing the
    master's database connections) in every worker.
    """
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


def load_before_fork(
    application: DjangoGunicornApplication, process: str, warmup: WarmUp | None
) -> None:
    """Import the application and its URLconf once, in the master, for all workers.

    With a warm-up, the master serves the health path once too: every worker forks with
    what that request loaded.
    """
    try:
        check_attribute(application.app_uri, process)
        wsgi = application.wsgi()
    except ApplicationError:
        raise
    except Exception as error:
        raise ApplicationError(
            f"The application '{application.app_uri}' failed to load: {error!r} "
            f"(run with --traceback to see where)."
        ) from error
    get_resolver().url_patterns  # noqa: B018 - importing the URLconf is the point.
    if warmup is not None:
        warm_up(wsgi, warmup.path, warmup.host_header, process)
    # Workers must not share the master's database sockets.
    connections.close_all()
    # Keep the collector off the objects loaded so far: its passes (and gevent's walk
    # over gc.get_objects() when it patches a worker) would write to every object and
    # give each worker a private copy of the pages the master shares with it.
    gc.freeze()
