"""Kubernetes: a Deployment per process, and a Service in front of each web process."""

from __future__ import annotations

import math
import re

from django_prodserver.bounds import whole_number
from django_prodserver.errors import ProdserverError
from django_prodserver.exports.deployment import (
    CONTAINER_FLAGS,
    LARGEST_USER_ID,
    Deployment,
    ExportFormat,
    engine_notes,
    refuse_root,
)
from django_prodserver.exports.dockerfile import DEFAULT_UID, RUNTIME_DIRECTORY, STATE_DIRECTORY
from django_prodserver.exports.rendering import ExportedFile, render

FORMAT = ExportFormat(
    name="kubernetes",
    flags=CONTAINER_FLAGS,
    in_container=True,
    # Names and label values: lower-case letters, digits and `-` (RFC 1123), 63 at most.
    name_disallowed=re.compile(r"[^a-z0-9-]+"),
    lowercase_names=True,
    max_name_length=63,
    stop_signal_note=(
        "{ident} stops on {signal}: Kubernetes sends the STOPSIGNAL of the image, so the "
        "Dockerfile needs STOPSIGNAL {signal}."
    ),
    never_restart_note="{ident}: RESTART never (a Deployment restarts it anyway).",
)
DEFAULT_ENVIRONMENT_FILE = ".env"
# Seconds for `prodserver --probe` in the container: Python and Django start, then the ask.
EXEC_PROBE_TIMEOUT = 15


def export(deployment: Deployment) -> list[ExportedFile]:
    options = deployment.options
    refuse_root(options, FORMAT, "the restricted profile's runAsNonRoot")
    project = deployment.project
    secret = f"{project}-env"
    notes = []
    if deployment.secrets:
        sources = options.environment_files or (DEFAULT_ENVIRONMENT_FILE,)
        notes.append(
            f"{', '.join(deployment.secrets)} come from the Secret {secret}: "
            f"kubectl create secret generic {secret} "
            + " ".join(f"--from-env-file={source}" for source in sources)
        )
    elif options.environment_files:
        notes.append(
            f"{' and '.join(options.environment_files)}: Kubernetes reads no environment "
            f"file; the variables that are not secrets belong in ENV."
        )
    job = f"{project}-release"
    if deployment.release_steps:
        notes.append(
            f"The release steps run in the Job {job}, once per deploy: apply it first and "
            f"wait for it (kubectl apply -f kubernetes.yaml -l "
            f"app.kubernetes.io/component=release && kubectl wait --for=condition=complete "
            f"job/{job} --timeout=30m), then apply the rest. A Job cannot be changed: "
            f"delete the finished one (kubectl delete job {job}) before the next deploy."
        )
    for process in deployment.processes:
        if process.restart == "never":
            deployment.warnings.append(
                f"Process '{process.name}' has RESTART 'never', but a Kubernetes Deployment "
                f"always restarts its containers."
            )
    notes.extend(engine_notes(deployment))
    context = {
        "format": FORMAT.name,
        "notes": notes,
        "project": project,
        "secret": secret,
        "options": options,
        # The restricted profile's numeric user: --run-as, else the Dockerfile export's.
        "run_as": (
            run_as_uid(options.run_as or str(DEFAULT_UID))
            if options.sandboxed
            else run_as_uid(options.run_as)
        ),
        "sandboxed": options.sandboxed,
        "runtime_directory": RUNTIME_DIRECTORY,
        "state_directory": STATE_DIRECTORY,
        "processes": [
            {
                "process": process,
                "name": f"{project}-{process.ident}",
                # HTTP from the kubelet needs a port; a unix socket is asked from inside.
                "http_get": process.http_check if process.port else None,
                "http_timeout": math.ceil(process.http_check.timeout) if process.http_check else 0,
                "exec_timeout": EXEC_PROBE_TIMEOUT,
                # A port below 1024: the lowest one a process without root may bind.
                "low_port": process.port if process.port and process.port < 1024 else None,
            }
            for process in deployment.long_running
        ],
        "job": job,
        "release_steps": deployment.release_steps,
        "release_stop_timeout": max(
            (step.stop_timeout for step in deployment.release_steps), default=0
        ),
    }
    return [ExportedFile("kubernetes.yaml", render("kubernetes.yaml", context))]


def run_as_uid(user: str | None) -> int | None:
    if user is None:
        return None
    uid = whole_number(user, LARGEST_USER_ID)
    if uid is None:
        raise ProdserverError(
            f"--run-as {user}: Kubernetes runs a container as a numeric user id "
            f"(securityContext.runAsUser) from 0 to {LARGEST_USER_ID}, such as --run-as 1000."
        )
    return uid
