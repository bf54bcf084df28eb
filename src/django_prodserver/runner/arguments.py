"""The runner's options, the same words in `prodserver` and `devserver`.

`--port` is added by devserver only: after `prodserver NAME`, `--port` is the server's own
option, as every option typed after the name, and run together it is read from there
(invocation.runner_port).
"""

from __future__ import annotations

import argparse

from django_prodserver.runner.log_format import LOG_FORMATS


def add_runner_arguments(parser: argparse.ArgumentParser, port: bool = False) -> None:
    parser.add_argument(
        "--env-file",
        action="append",
        metavar="PATH",
        help="Read variables from this file (repeatable; the later file wins); the real "
        "environment wins over every file. Default: .env beside manage.py, when it exists.",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        help="How the runner writes its output: plain (time and name, the default), json "
        "(one object a line) or raw (the lines alone). One process named runs under the "
        "runner.",
    )
    if port:
        parser.add_argument(
            "--port",
            type=int,
            metavar="N",
            help="The first web process's port when its address is not configured, the "
            "next N+100, ... Default: $PORT, else 8000.",
        )
