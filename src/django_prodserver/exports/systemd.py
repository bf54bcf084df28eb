"""systemd: a service unit per process, and a target that starts and stops them together."""

from __future__ import annotations

import os
import re

from django_prodserver.exports.deployment import (
    Deployment,
    ExportedProcess,
    ExportFormat,
    ExportOptions,
    refuse_root,
)
from django_prodserver.exports.filters import systemd_value
from django_prodserver.exports.rendering import ExportedFile, render
from django_prodserver.exports.systemd_sockets import (
    listen_stream,
    socket_activated,
    socket_settings,
)

FORMAT = ExportFormat(
    name="systemd",
    flags=frozenset(
        {
            "project",
            "python",
            "working_directory",
            "run_as",
            "environment_file",
            "sandbox",
            "socket_activation",
        }
    ),
    in_container=False,
    # Unit names take [A-Za-z0-9:_.\-]; `@` would make a template unit, `\` an escape.
    name_disallowed=re.compile(r"[^A-Za-z0-9_.-]+"),
    max_name_length=255 - len(".service"),
    restart={"always": "always", "on-failure": "on-failure", "never": "no"},  # Restart=
)


def export(deployment: Deployment) -> list[ExportedFile]:
    project = deployment.project
    target = f"{project}.target"
    options = deployment.options
    environment_files = list(options.environment_files)
    if deployment.secrets and not environment_files:
        environment_files = [f"{options.working_directory}/.env"]
    notes = []
    if deployment.secrets:
        notes.append(
            f"{', '.join(deployment.secrets)}: set in {' or '.join(environment_files)} "
            f"(NAME=value lines; readable by root only)."
        )
    refuse_root(options, FORMAT, "without --run-as, a user of its own: DynamicUser=")
    release_units = [unit_name(project, step) for step in deployment.release_steps]
    units = []
    for process in deployment.processes:
        # A release step waits for the one before it; a process waits for every one.
        waits_for = (
            release_units[: deployment.release_steps.index(process)][-1:]
            if process.release
            else release_units
        )
        service = unit_name(project, process)
        activated = socket_activated(process, options.socket_activation)
        socket_unit = service.removesuffix(".service") + ".socket" if activated else None
        context = {
            "format": FORMAT.name,
            "notes": notes,
            "project": project,
            "target": target,
            "process": process,
            "restart": process.restart_setting(FORMAT),
            "options": options,
            "environment_files": environment_files,
            "requires": waits_for,
            # The name of its folders under /run and /var/lib: its unit's.
            "directory": unit_name(project, process).removesuffix(".service"),
            "sandbox": sandbox(process, options, activated) if options.sandboxed else [],
            "socket": socket_unit,
        }
        template = "systemd-release.service" if process.release else "systemd.service"
        units.append(ExportedFile(service, render(template, context)))
        if socket_unit is not None:
            socket_context = {
                **context,
                "service": service,
                "listen": listen_stream(process),
                "settings": socket_settings(process),
            }
            units.append(ExportedFile(socket_unit, render("systemd.socket", socket_context)))
    services = [unit.name for unit in units if unit.name.endswith(".service")]
    context = {"format": FORMAT.name, "notes": [], "project": project, "services": services}
    return [*units, ExportedFile(target, render("systemd.target", context))]


def unit_name(project: str, process: ExportedProcess) -> str:
    return f"{project}-{process.ident}.service"


# A user name systemd takes for DynamicUser=: a letter or `_`, then letters, digits, `_`, `-`.
USER_NAME_LENGTH = 31
NOT_IN_A_USER_NAME = re.compile(r"[^a-z0-9_-]+")
# Names of users that exist on every machine: DynamicUser= would run as them.
SYSTEM_USERS = frozenset({"root", "nobody", "daemon", "bin", "sys"})
# Where a project may live that ProtectHome=yes would hide.
HOMES = ("/home/", "/root/", "/run/user/")
# Below this port, binding needs CAP_NET_BIND_SERVICE (in the host's user namespace).
PRIVILEGED_PORTS = 1024


def sandbox(
    process: ExportedProcess, options: ExportOptions, socket_activated: bool = False
) -> list[str]:
    """The unit's sandboxing directives (systemd.exec(5)), each relaxed one with its reason.

    Everything but what the process is given stays read-only or hidden: its runtime
    folder (RuntimeDirectory=), the project's state folder (StateDirectory=), a /tmp of
    its own. `systemd-analyze security` rates what this leaves exposed. A socket-activated
    process binds nothing: systemd binds its port, whatever the port.
    """
    lines = ["# The sandbox (--sandbox=off leaves it out; see docs/deploy-systemd.md)."]
    if options.run_as:
        lines.append(f"User={systemd_value(options.run_as)}")
    else:
        lines += [
            "# A user of its own, made while a unit of the project runs (all share it).",
            f"User={dynamic_user(options.project)}",
            "DynamicUser=yes",
        ]
    kept = f"{process.state_files}, " if process.state_files else ""
    lines += [
        "NoNewPrivileges=yes",
        "# All is read-only but /tmp (its own) and the folders below, owned by its user:",
        "ProtectSystem=strict",
        f"# $STATE_DIRECTORY of the project, /var/lib/{options.project}: {kept}a SQLite "
        "database, uploads.",
        f"StateDirectory={options.project}",
    ]
    paths = [options.working_directory or "", options.python]
    # A virtualenv's python is a link to the Python it was made from: where it really is.
    paths += [os.path.realpath(path) for path in paths if os.path.isabs(path)]
    if any(path.startswith(HOMES) for path in paths):
        lines += [
            "# The project is in a home folder: ProtectHome=yes would hide it.",
            "ProtectHome=read-only",
        ]
    else:
        lines.append("ProtectHome=yes")
    privileged_port = (
        not socket_activated and process.port is not None and process.port < PRIVILEGED_PORTS
    )
    if privileged_port:
        lines += [
            f"# Port {process.port}: the one capability to bind it. PrivateUsers= is left out:",
            "# a capability in a user namespace of its own binds no port of the host.",
            "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
            "AmbientCapabilities=CAP_NET_BIND_SERVICE",
        ]
    else:
        lines += ["CapabilityBoundingSet=", "AmbientCapabilities=", "PrivateUsers=yes"]
    lines += [
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "PrivateIPC=yes",
        "PrivateMounts=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "ProtectClock=yes",
        "ProtectHostname=yes",
        "ProtectProc=invisible",
        "# ProcSubset=pid is left out: Python and its libraries read /proc/meminfo, /proc/stat.",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "RestrictNamespaces=yes",
        "RestrictRealtime=yes",
        "RestrictSUIDSGID=yes",
        "LockPersonality=yes",
        "MemoryDenyWriteExecute=yes",
        "SystemCallArchitectures=native",
        "SystemCallFilter=@system-service",
        "SystemCallFilter=~@privileged @resources",
        "SystemCallErrorNumber=EPERM",
        "RemoveIPC=yes",
        "UMask=0027",
    ]
    return lines


def dynamic_user(project: str) -> str:
    """The project's name as a user name of its own (not one every machine already has)."""
    name = NOT_IN_A_USER_NAME.sub("_", project.lower())
    if not (name[0].isalpha() or name[0] == "_") or name in SYSTEM_USERS:
        name = f"app_{name}"
    return name[:USER_NAME_LENGTH]
