"""Each engine file runs its processes with the least privilege they work with (issue 22).

systemd: a sandboxed unit (its exposure score: tests/exports/test_systemd_analyze.py);
Kubernetes: every pod spec meets the restricted Pod Security Standard, with a read-only
root, a writable /tmp and resources; Compose: every service read-only, without
capabilities nor privileges to gain. `--sandbox=off` leaves it all out.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.core.management.base import CommandError

from tests.unit.exports.support import GUNICORN, WORKER, export

PROCESSES = {
    "migrate": {
        "BACKEND": "django_prodserver.backends.release.ReleaseCommand",
        "ARGS": ["migrate", "--noinput"],
    },
    "web": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:8000"}},
    "worker": {"BACKEND": WORKER},
}
SANDBOX_FORMATS = ("systemd", "compose", "kubernetes")


def units(*args: str, processes: dict[str, Any] = PROCESSES) -> dict[str, str]:
    output = export("systemd", processes, *args)
    files = output.split("# ==> ")[1:]
    return {text.partition(" <==\n")[0]: text.partition(" <==\n")[2] for text in files}


def pod_specs(*args: str, processes: dict[str, Any] = PROCESSES) -> dict[str, dict[str, Any]]:
    """The pod template of every Deployment and of the release Job, by resource name."""
    documents = yaml.safe_load_all(export("kubernetes", processes, *args))
    return {
        document["metadata"]["name"]: document["spec"]["template"]["spec"]
        for document in documents
        if document and document["kind"] in ("Deployment", "Job")
    }


def services(*args: str, processes: dict[str, Any] = PROCESSES) -> dict[str, dict[str, Any]]:
    return dict(yaml.safe_load(export("compose", processes, *args))["services"])


def test_every_unit_is_sandboxed_with_a_user_of_its_own():
    found = units()
    names = {"app-migrate.service", "app-web.service", "app-worker.service", "app.target"}
    assert set(found) == names
    for name, text in found.items():
        if name.endswith(".target"):
            continue
        lines = text.splitlines()
        for directive in (
            "User=app",
            "DynamicUser=yes",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "StateDirectory=app",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "PrivateDevices=yes",
            "PrivateUsers=yes",
            "CapabilityBoundingSet=",
            "AmbientCapabilities=",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
            "SystemCallFilter=@system-service",
            "SystemCallFilter=~@privileged @resources",
            "MemoryDenyWriteExecute=yes",
        ):
            assert directive in lines, f"{name}: no {directive}"


def test_a_unit_with_run_as_runs_as_that_user_sandboxed():
    web = units("--run-as=www-data")["app-web.service"]
    assert "User=www-data\n" in web
    assert "DynamicUser" not in web
    assert web.count("User=") == 1
    assert "ProtectSystem=strict\n" in web


def test_a_port_below_1024_gets_its_one_capability_and_no_user_namespace():
    processes = {"web": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:80"}}}
    web = units(processes=processes)["app-web.service"]
    assert "CapabilityBoundingSet=CAP_NET_BIND_SERVICE\n" in web
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE\n" in web
    assert "PrivateUsers" not in web.replace("# Port 80: the one capability to bind it. "
                                             "PrivateUsers= is left out:", "")  # fmt: skip


def test_a_project_in_a_home_folder_stays_readable():
    web = units("--working-directory=/home/deploy/app")["app-web.service"]
    assert "ProtectHome=read-only\n" in web
    assert "ProtectHome=yes\n" not in web


def test_sandbox_off_leaves_the_unit_as_it_was():
    web = units("--sandbox=off", "--run-as=www-data")["app-web.service"]
    assert "User=www-data\n" in web
    for directive in ("DynamicUser", "ProtectSystem", "NoNewPrivileges", "SystemCallFilter"):
        assert directive not in web


def test_every_pod_spec_meets_the_restricted_profile():
    specs = pod_specs()
    assert set(specs) == {"app-release", "app-web", "app-worker"}
    for name, spec in specs.items():
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert isinstance(pod["runAsUser"], int), name
        assert pod["runAsUser"] > 0, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert [volume["name"] for volume in spec["volumes"]] == ["tmp"], name
        assert spec["volumes"][0]["emptyDir"] == {}, name
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}], name
            assert container["resources"] == {
                "requests": {"cpu": "250m", "memory": "256Mi"},
                "limits": {"cpu": "1", "memory": "512Mi"},
            }, name


def test_resources_come_from_the_settings():
    processes = {
        "web": {
            "BACKEND": GUNICORN,
            "ARGS": {"bind": "0.0.0.0:8000"},
            "RESOURCES": {"CPU": 0.5, "MEMORY": "1Gi", "CPU_LIMIT": None, "MEMORY_LIMIT": "2Gi"},
        }
    }
    [container] = pod_specs(processes=processes)["app-web"]["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "0.5", "memory": "1Gi"},
        "limits": {"memory": "2Gi"},
    }


def test_a_port_below_1024_in_a_pod_is_bound_by_the_profiles_sysctl():
    processes = {"web": {"BACKEND": GUNICORN, "ARGS": {"bind": "0.0.0.0:80"}}}
    pod = pod_specs(processes=processes)["app-web"]["securityContext"]
    assert pod["sysctls"] == [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}]


def test_run_as_is_the_pods_user():
    for spec in pod_specs("--run-as=1000").values():
        assert spec["securityContext"]["runAsUser"] == 1000


def test_sandbox_off_leaves_the_pods_unconfined_but_keeps_their_resources():
    for spec in pod_specs("--sandbox=off").values():
        assert "securityContext" not in spec
        assert "volumes" not in spec
        [container] = spec["containers"]
        assert "securityContext" not in container
        assert container["resources"]["limits"] == {"cpu": "1", "memory": "512Mi"}


def test_every_compose_service_is_read_only_without_capabilities():
    found = services()
    assert set(found) == {"migrate", "web", "worker"}
    for name, service in found.items():
        assert service["read_only"] is True, name
        assert service["tmpfs"] == ["/tmp"], name
        assert service["cap_drop"] == ["ALL"], name
        assert service["security_opt"] == ["no-new-privileges:true"], name
        assert "user" not in service, name  # the image's own user (the Dockerfile's 10001)


def test_sandbox_off_leaves_the_services_as_they_were():
    for service in services("--sandbox=off").values():
        for field in ("read_only", "tmpfs", "cap_drop", "security_opt"):
            assert field not in service


@pytest.mark.parametrize("format", SANDBOX_FORMATS)
@pytest.mark.parametrize("user", ["root", "0", "000"])
def test_root_is_refused_by_a_sandbox(format, user):
    with pytest.raises(CommandError, match=f"--run-as {user}: a sandboxed {format} export never"):
        export(format, PROCESSES, f"--run-as={user}")


@pytest.mark.parametrize("format", SANDBOX_FORMATS)
def test_root_is_possible_without_the_sandbox(format):
    assert export(format, PROCESSES, "--run-as=0", "--sandbox=off")


@pytest.mark.parametrize("level", ["none", "STRICT", "no", "1"])
def test_an_unknown_sandbox_level_is_an_error(level):
    with pytest.raises(CommandError, match=f"--sandbox takes one of strict, off, got '{level}'"):
        export("systemd", PROCESSES, f"--sandbox={level}")


@pytest.mark.parametrize("format", ["procfile", "supervisor"])
def test_sandbox_means_nothing_where_the_engine_has_none(format):
    with pytest.raises(CommandError, match=f"--sandbox means nothing in a {format} export"):
        export(format, PROCESSES, "--sandbox=off")


@pytest.mark.parametrize(
    ("project", "user"),
    [
        ("shop", "shop"),
        ("My.Shop", "my_shop"),
        ("2shop", "app_2shop"),
        ("root", "app_root"),
        ("a" * 40, "a" * 31),
    ],
)
def test_the_dynamic_user_is_a_name_systemd_takes(project, user):
    web = units(f"--project={project}")[f"{project}-web.service"]
    assert f"\nUser={user}\nDynamicUser=yes\n" in web
