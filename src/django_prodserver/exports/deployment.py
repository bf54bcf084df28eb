"""What every export format needs to know about the processes, from settings and flags.

The format modules only lay this out in their engine's terms; the decisions are made
here, once: the command each process runs, its stop timeout, its replicas, which of
its variables are secrets, the address its health check probes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from django_prodserver.backends.base import Address, Backend
from django_prodserver.errors import ProdserverError
from django_prodserver.exports.flags import DEPLOYMENT_FLAGS
from django_prodserver.liveness.http import HttpCheck, http_check
from django_prodserver.masking import mask_secrets, sensitive
from django_prodserver.planning import PlannedProcess
from django_prodserver.processes import ProcessSpec
from django_prodserver.release import RELEASE_KIND, is_release
from django_prodserver.resources import Resources

# Added to a server's own graceful timeout: the engine kills only after the server has
# had its whole window and the time to exit.
STOP_MARGIN = 5.0
ENVIRONMENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Control characters and the characters YAML reads as line breaks (NEL, U+2028/9).
UNWRITABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class ExportFormat:
    """One engine's file format: the flags it takes and how its names are spelt."""

    name: str
    # The deployment flags (option dests) that mean something to this engine.
    flags: frozenset[str]
    # A container runs `python` from its image, in the image's working directory.
    in_container: bool
    # Characters a name may not hold in this engine (each run becomes `-`).
    name_disallowed: re.Pattern[str]
    lowercase_names: bool = False
    max_name_length: int = 255
    # RESTART -> the engine's own setting for it; empty: the engine restarts as it does.
    restart: Mapping[str, str] = field(default_factory=dict)
    # What the file notes of a process the engine cannot stop with its STOP_SIGNAL, or of
    # RESTART 'never' that it does not honour ({ident}, {signal}); None: it can.
    stop_signal_note: str | None = None
    never_restart_note: str | None = None


# The largest user id --run-as takes: Kubernetes' runAsUser (and many tools) stop there.
LARGEST_USER_ID = 2**31 - 1
# The flags of the engines that run each process in a container of the project's image.
CONTAINER_FLAGS = frozenset(
    {
        "project",
        "python",
        "working_directory",
        "image",
        "run_as",
        "environment_file",
        "replicas",
        "sandbox",
    }
)
# --sandbox: each process confined to what it needs (the default), or not at all.
SANDBOX_LEVELS = ("strict", "off")
# --run-as values that mean root (a uid written with leading zeros is still 0).
ROOT = re.compile(r"root|0+")


@dataclass(frozen=True)
class ExportOptions:
    """The deployment flags, with their defaults filled in."""

    project: str
    python: str
    working_directory: str | None
    image: str
    image_given: bool
    run_as: str | None
    # Every --environment-file, in the order given (later files win, as in each engine).
    environment_files: tuple[str, ...]
    replicas: Mapping[str, int]
    # `--settings=...` (the settings module the export ran with) and `--pythonpath=...`.
    django_options: tuple[str, ...] = ()
    # Compose's `build:`: the Dockerfile and the folder it is built in.
    dockerfile: str | None = None
    context: str | None = None
    # The Dockerfile's dependency file (default: the first found beside manage.py).
    requirements: str | None = None
    # --sandbox strict (True): least privilege in the engine's own terms; off (False): none.
    sandboxed: bool = True
    # --socket-activation: systemd binds each web process's address (a .socket unit).
    socket_activation: bool = False


@dataclass(frozen=True)
class ExportedProcess:
    """A process as the engine runs it: its settings (`spec`), and what the export decided."""

    spec: ProcessSpec
    ident: str  # the name spelt for the engine (unit, program, service, resource)
    kind: str  # "web" or "worker"
    server: str
    argv: tuple[str, ...]  # python manage.py prodserver NAME ...
    replicas: int
    single_instance: bool
    stop_timeout: int  # seconds: at least the server's graceful timeout, plus a margin
    environment: Mapping[str, str]  # written into the file
    secrets: tuple[str, ...]  # names only: their values come from outside the file
    address: Address | None  # where a web process listens, for health checks
    # A web process's HTTP check (its HEALTH against its address); None: a worker, or a
    # server whose address the plan does not give.
    http_check: HttpCheck | None = None
    # What it keeps in $XDG_RUNTIME_DIR while it runs, and in $STATE_DIRECTORY from one
    # start to the next (Backend.runtime_files, .state_files): the engine gives it a place.
    runtime_files: str | None = None
    state_files: str | None = None
    # RESOURCES: the CPU and memory it asks for and may use (Kubernetes).
    resources: Resources = field(default_factory=Resources)
    # Whether its server can serve on a socket it inherits (Backend.takes_sockets), and the
    # settings of a systemd .socket unit that binds its address as the server would.
    takes_sockets: bool = False
    socket_settings: Mapping[str, str] = field(default_factory=dict)
    # Why it cannot take a socket (Backend.sockets_refusal).
    sockets_refusal: str = ""
    # The signal that reloads its code without a restart (Backend.reload_signal).
    reload_signal: str | None = None

    @property
    def name(self) -> str:
        """As in PRODUCTION_PROCESSES."""
        return self.spec.name

    @property
    def stop_signal(self) -> str:
        return self.spec.stop_signal

    @property
    def restart(self) -> str:
        return self.spec.restart

    @property
    def release(self) -> bool:
        """A release step: run once, to its end, before the other processes start."""
        return self.kind == RELEASE_KIND

    @property
    def port(self) -> int | None:
        return self.address.port if self.address and not self.address.path else None

    def restart_setting(self, export: ExportFormat) -> str:
        return export.restart[self.restart]

    @property
    def probe_argv(self) -> tuple[str, ...]:
        """`python manage.py prodserver --probe NAME`: exits 0 while the process answers."""
        python, manage_py, command, name, *django_options = self.argv
        return (python, manage_py, command, "--probe", name, *django_options)


@dataclass(frozen=True)
class Deployment:
    format: ExportFormat
    options: ExportOptions
    processes: tuple[ExportedProcess, ...]
    warnings: list[str] = field(default_factory=list)

    @property
    def project(self) -> str:
        return self.options.project

    @property
    def release_steps(self) -> tuple[ExportedProcess, ...]:
        """The release steps, in the order they run (that of the setting)."""
        return tuple(process for process in self.processes if process.release)

    @property
    def long_running(self) -> tuple[ExportedProcess, ...]:
        """The processes that start once the release steps have succeeded."""
        return tuple(process for process in self.processes if not process.release)

    @property
    def secrets(self) -> list[str]:
        return sorted({name for process in self.processes for name in process.secrets})


def engine_notes(deployment: Deployment) -> list[str]:
    """What the engine will not do as a process asks, said in the generated file."""
    export = deployment.format
    notes = []
    for process in deployment.processes:
        if process.stop_signal != "SIGTERM" and export.stop_signal_note:
            notes.append(
                export.stop_signal_note.format(ident=process.ident, signal=process.stop_signal)
            )
        if process.restart == "never" and export.never_restart_note:
            notes.append(export.never_restart_note.format(ident=process.ident))
    return notes


def check_text(text: str, what: str, export: ExportFormat) -> str:
    """`text`, or an error if it cannot be written on one line of a generated file."""
    found = UNWRITABLE.search(text)
    if found:
        raise ProdserverError(
            f"{what} holds {found[0]!r} (in {text!r}): a {export.name} file cannot hold a "
            f"line break or a control character there. Remove it"
            f"{' or set the variable in the environment file' if 'ENV' in what else ''}."
        )
    return text


def engine_name(text: str, export: ExportFormat, what: str) -> str:
    """`text` spelt as this engine allows a name: every run of other characters -> `-`."""
    name = text.lower() if export.lowercase_names else text
    name = export.name_disallowed.sub("-", name).strip("-.")
    if not name or not name[0].isalnum():
        raise ProdserverError(
            f"{what} {text!r} gives no usable {export.name} name: it must begin with a "
            f"letter or a digit."
        )
    if len(name) > export.max_name_length:
        raise ProdserverError(
            f"{what} {text!r} makes the {export.name} name {name!r}, longer than its "
            f"{export.max_name_length} characters. Choose a shorter one."
        )
    return name


def engine_names(names: Sequence[str], export: ExportFormat, prefix: str = "") -> dict[str, str]:
    """Each process name spelt for the engine, distinct, checked with `prefix` in front."""
    spelt: dict[str, str] = {}
    for name in names:
        ident = engine_name(name, export, "Process name")
        engine_name(prefix + ident, export, "Process name")  # the full name fits too
        clash = next((other for other, taken in spelt.items() if taken == ident), None)
        if clash is not None:
            raise ProdserverError(
                f"Processes {clash!r} and {name!r} both become {ident!r} in a {export.name} "
                f"file, which allows only {export.name_disallowed.pattern.replace('[^', '[')} "
                f"in a name. Rename one of them."
            )
        spelt[name] = ident
    return spelt


def stop_timeout(spec: ProcessSpec, graceful: float | None) -> int:
    """STOP_TIMEOUT, raised to the server's graceful window plus a margin."""
    seconds = spec.stop_timeout
    if graceful is not None:
        seconds = max(seconds, graceful + STOP_MARGIN)
    return math.ceil(seconds)


def is_secret(name: str, value: str) -> bool:
    """A name Django would hide (`SECRET_KEY`, `DB_PASS`, `API_TOKEN`), or a value with a
    secret in it (a URL's password or user part, `?token=...`)."""
    return sensitive(name) or mask_secrets(value) != value


def split_environment(
    spec: ProcessSpec, export: ExportFormat
) -> tuple[dict[str, str], tuple[str, ...]]:
    """ENV, split into the values written in the file and the names of the secrets."""
    inline: dict[str, str] = {}
    secrets: list[str] = []
    for name, value in spec.env.items():
        if not ENVIRONMENT_NAME.fullmatch(name):
            raise ProdserverError(
                f"Process '{spec.name}': ENV[{name!r}] cannot be exported: an environment "
                f"variable name for an engine is letters, digits and '_', not starting with "
                f"a digit."
            )
        if is_secret(name, value):
            secrets.append(name)
        else:
            inline[name] = check_text(value, f"Process '{spec.name}': ENV[{name!r}]", export)
    return inline, tuple(secrets)


def replicas_for(
    spec: ProcessSpec, backend: Backend, asked: Mapping[str, int], warn: Callable[[str], None]
) -> int:
    count = asked.get(spec.name, 1)
    if count > 1 and backend.kind == RELEASE_KIND:
        raise ProdserverError(
            f"--replicas {spec.name}={count}: '{spec.name}' is a release step, which runs "
            f"once per deploy. Leave it out of --replicas."
        )
    if count > 1 and backend.single_instance:
        warn(
            f"Process '{spec.name}' ({backend.server}) must run once; it gets 1 replica, "
            f"not the {count} asked for."
        )
        return 1
    return count


def deployment_of(
    planned: Sequence[PlannedProcess],
    export: ExportFormat,
    options: ExportOptions,
) -> Deployment:
    """Every process, as the format modules need it; `warnings` says what was changed."""
    warnings: list[str] = []
    check_options(options, export)
    idents = engine_names([process.name for process in planned], export, f"{options.project}-")
    processes = []
    # Release steps first, in the order of the setting: the engines run them in this order.
    planned = sorted(planned, key=lambda process: not is_release(process))
    for process in planned:
        spec = process.spec
        check_text(spec.name, "A process name", export)
        backend, plan = process.ready()
        environment, secrets = split_environment(spec, export)
        address = backend.listen_address(plan) if backend.kind == "web" else None
        if address and export.in_container and address.host in ("127.0.0.1", "localhost"):
            warnings.append(
                f"Process '{spec.name}' listens on {address.host}:{address.port}, which "
                f"nothing outside its container can reach (nor a health check from outside). "
                f"Bind it to 0.0.0.0 in ARGS."
            )
        processes.append(
            ExportedProcess(
                spec=spec,
                ident=idents[spec.name],
                kind=backend.kind,
                server=backend.server,
                argv=(
                    options.python,
                    "manage.py",
                    "prodserver",
                    spec.name,
                    *options.django_options,
                ),
                replicas=replicas_for(spec, backend, options.replicas, warnings.append),
                single_instance=backend.single_instance,
                stop_timeout=stop_timeout(spec, backend.graceful_timeout(plan)),
                environment=environment,
                secrets=secrets,
                address=address,
                http_check=http_check(spec, address) if address else None,
                runtime_files=backend.runtime_files(plan),
                state_files=backend.state_files(plan),
                resources=spec.resources,
                takes_sockets=backend.takes_sockets and backend.kind == "web",
                socket_settings=backend.socket_unit_settings(plan) if address else {},
                sockets_refusal=backend.sockets_refusal,
                reload_signal=backend.reload_signal if backend.kind == "web" else None,
            )
        )
    if options.socket_activation:
        for exported in processes:
            if exported.kind == "web" and not exported.takes_sockets:
                reload = (
                    " `systemctl reload` (its ExecReload) loads new code without that gap."
                    if exported.reload_signal
                    else ""
                )
                warnings.append(
                    f"Process '{exported.name}' gets no .socket unit: {exported.server} cannot "
                    f"serve on a socket systemd passes ({exported.sockets_refusal}). Its "
                    f"service binds its own address; a restart refuses connections while "
                    f"it starts.{reload}"
                )
    return Deployment(export, options, tuple(processes), warnings)


def sandboxed(level: str | None) -> bool:
    """--sandbox LEVEL: whether the exported processes are confined (strict, the default)."""
    if level is None or level == "strict":
        return True
    if level == "off":
        return False
    raise ProdserverError(
        f"--sandbox takes one of {', '.join(SANDBOX_LEVELS)}, got {level!r}: strict (the "
        f"default) confines each process to what it needs, off leaves that out."
    )


def refuse_root(options: ExportOptions, export: ExportFormat, instead: str) -> None:
    """--run-as root with --sandbox strict: an error, the sandbox never runs as root."""
    if options.sandboxed and options.run_as is not None and ROOT.fullmatch(options.run_as.strip()):
        raise ProdserverError(
            f"--run-as {options.run_as}: a sandboxed {export.name} export never runs a process "
            f"as root ({instead}). Give another user, or --sandbox=off to run the processes "
            f"as root, unconfined."
        )


def check_options(options: ExportOptions, export: ExportFormat) -> None:
    for dest, flag in DEPLOYMENT_FLAGS.items():
        value = getattr(options, dest, None)
        if isinstance(value, str):
            check_text(value, flag, export)
    for option in options.django_options:
        check_text(option, option.partition("=")[0], export)
    for path in options.environment_files:
        check_text(path, "--environment-file", export)
