"""The runner's own interpreter: supervises the children, without Django loaded.

`prodserver web worker` checks the configuration and works out each child in the Django
process, then replaces itself (same PID, so signals still reach it) with
`python -m django_prodserver.runner.supervise FD`, FD being a file that holds the
children as JSON (each one's ProcessSpec, see processes.spec_to_data, its command line and
its environment). Supervising needs none of Django's or the servers' modules, and the
runner lives as long as the processes it runs: this keeps its memory small. It starts its
watchdog (lifecycle/watchdog.py) before its first child, and closes it after the last.

The listening sockets the runner holds for its web processes (see holding.py) cross the
exec at their numbers, inheritable for that moment only; the document says which belong
to which child (`fds`), and how a reload replaces each (`style`, `probe`). The document
also names the folder of the runner's record (registry.py), which `prodserver --reload`
reads to find it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from django_prodserver.lifecycle.replacing import replace_this_process
from django_prodserver.lifecycle.watchdog import Watchdog
from django_prodserver.processes import spec_from_data, spec_to_data
from django_prodserver.runner.child import Child
from django_prodserver.runner.manager import Manager
from django_prodserver.runner.output import nonblocking_output
from django_prodserver.runner.printer import Printer
from django_prodserver.runner.registry import remove_record, write_record
from django_prodserver.runner.runner_output import RunnerOutput

# Variables the runner must not hand on to its children (see environment.py).
NOT_INHERITED = ("DJANGO_PRODSERVER_ENV_APPLIED",)
DEFAULT_OUTPUT = RunnerOutput()


def become_supervisor(
    children: Sequence[Child],
    colour: bool,
    output: RunnerOutput = DEFAULT_OUTPUT,
    record: str = "",
) -> NoReturn:
    """Replace this process with the supervisor of `children`.

    The children travel in an unlinked temporary file rather than on the command line,
    which anyone on the machine can read and where ENV's secrets do not belong.
    """
    handoff = tempfile.TemporaryFile()  # noqa: SIM115 - handed on to the next program
    handoff.write(handoff_document(children, colour, os.environ, output, record))
    handoff.flush()
    handoff.seek(0)
    os.set_inheritable(handoff.fileno(), True)
    for fd in {fd for child in children for fd in child.fds}:
        os.set_inheritable(fd, True)
    module = "django_prodserver.runner.supervise"
    replace_this_process([sys.executable, "-m", module, str(handoff.fileno())], os.environ)


def handoff_document(
    children: Sequence[Child],
    colour: bool,
    environ: Mapping[str, str],
    output: RunnerOutput = DEFAULT_OUTPUT,
    record: str = "",
) -> bytes:
    """The children as `read_handoff()` reads them: each one's spec, command line,
    environment as what it adds to `environ`, which the supervisor inherits, and what the
    runner holds for it; how the runner writes its output; the folder of its record."""
    document = {
        "colour": colour,
        "output": output.to_data(),
        "record": record,
        "children": [
            {
                "spec": spec_to_data(child.spec),
                "argv": list(child.argv),
                "env": {
                    key: value for key, value in child.env.items() if environ.get(key) != value
                },
                "copy": child.copy,
                "style": child.style,
                "fds": list(child.fds),
                "where": child.where,
                "probe": dict(child.probe),
            }
            for child in children
        ],
    }
    return json.dumps(document).encode()


def read_handoff(fd: int) -> tuple[list[Child], bool, RunnerOutput, str]:
    """What `handoff_document()` wrote into `fd`: the children, whether in colour, how the
    runner writes its output, and the folder of the runner's record ("": none)."""
    with os.fdopen(fd, "rb") as handoff:
        document: dict[str, Any] = json.loads(handoff.read())
    inherited = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    children = [
        Child(
            spec_from_data(child["spec"]),
            tuple(child["argv"]),
            {**inherited, **child["env"]},
            copy=child.get("copy"),
            style=child.get("style", "restart"),
            fds=tuple(child.get("fds", ())),
            where=child.get("where", ""),
            probe=child.get("probe", {}),
        )
        for child in document["children"]
    ]
    # Inherited across the exec; from now on a child gets them only as `pass_fds`.
    for fd in {fd for child in children for fd in child.fds}:
        os.set_inheritable(fd, False)
    output = RunnerOutput.from_data(document.get("output", {}))
    return children, bool(document["colour"]), output, str(document.get("record", ""))


def main(argv: Sequence[str]) -> int:
    children, colour, output_options, folder = read_handoff(int(argv[1]))
    sys.stdout.flush()
    watchdog = Watchdog.start()
    record = ""
    if folder:
        try:
            record = write_record(folder, sorted({child.spec.name for child in children}))
        except OSError as error:
            print(
                f"prodserver: cannot record this runner in {folder} ({error.strerror}): "
                f"`prodserver --reload` will not find it; SIGHUP to pid {os.getpid()} reloads.",
                flush=True,
            )
    try:
        with nonblocking_output(sys.stdout.fileno()) as output:
            printer = Printer(
                output, [child.name for child in children], colour, log_format=output_options.format
            )
            for note in output_options.notes:
                printer.message(note)
            manager = Manager(children, printer, watchdog=watchdog)
            return manager.run()
    finally:
        if record:
            remove_record(record)
        if watchdog is not None:
            watchdog.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
