"""Per-container rules, on Docker containers and on every pod template: limits and
requests within the stack's ceilings (`container-resources`), pinned images
(`image-references`), health probes (`health-probes`), hardening
(`container-hardening`) and loopback-only published ports (`docker-loopback-ports`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plexica_infra._validators import is_local_host
from plexica_infra.quantities import format_cpu, format_memory, parse_cpu, parse_memory

from ._common import (
    DOCKER_CONTAINER,
    DOCKER_REMOTE_IMAGE,
    K8S_DEPLOYMENT,
    UNKNOWN,
    Messages,
    as_int,
    cpu_millicores,
    get,
    known,
    memory_bytes,
    pod_of,
)

__all__ = [
    "check_container_hardening",
    "check_container_resources",
    "check_docker_ports",
    "check_health_probes",
    "check_image_references",
]


# -- container-resources ---------------------------------------------------------------
@dataclass(frozen=True)
class Ceilings:
    cpu_millicores: int
    memory_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Ceilings:
        return cls(parse_cpu(str(config.get("maxCpu", "4"))), parse_memory(str(config.get("maxMemory", "8Gi"))))


def _k8s_resources(owner: str, container: Mapping[str, Any], ceilings: Ceilings) -> Messages:
    name = f"{owner} container {container.get('name', '?')!r}"
    resources = container.get("resources")
    if not known(resources):
        return [] if resources == UNKNOWN else [f"{name} has no resources; set requests and limits for cpu and memory"]
    problems: Messages = []
    readers: dict[str, Callable[[Any], int | None]] = {"cpu": cpu_millicores, "memory": memory_bytes}
    ceiling = {"cpu": ceilings.cpu_millicores, "memory": ceilings.memory_bytes}
    shown = {"cpu": format_cpu, "memory": format_memory}
    for kind in ("limits", "requests"):
        for resource in ("cpu", "memory"):
            raw = get(resources, kind, resource)
            if raw == UNKNOWN:
                continue
            if raw is None:
                problems.append(f"{name} has no {kind}.{resource}; set resources.{kind}.{resource}")
                continue
            amount = readers[resource](raw)
            if amount is None:
                problems.append(f"{name} has an unreadable {kind}.{resource} {raw!r}; use a quantity like '500m'")
            elif amount > ceiling[resource]:
                problems.append(
                    f"{name} {kind}.{resource} {raw} exceeds the stack's ceiling {shown[resource](ceiling[resource])}; "
                    f"lower it in the manifest's runtime.resources or raise maxCpu/maxMemory in the policy config"
                )
    return problems


def _docker_resources(container: str, props: Mapping[str, Any], ceilings: Ceilings) -> Messages:
    problems: Messages = []
    cpus, memory, reservation = props.get("cpus"), props.get("memory"), props.get("memoryReservation")
    if cpus is None or cpus == "":
        problems.append(f"container {container} has no CPU limit; set `cpus` (the manifest's runtime.resources.cpu)")
    elif known(cpus):
        millicores = cpu_millicores(cpus)
        if millicores is not None and millicores > ceilings.cpu_millicores:
            problems.append(
                f"container {container} cpus {cpus} exceeds the stack's ceiling "
                f"{format_cpu(ceilings.cpu_millicores)}; lower runtime.resources.cpu or raise maxCpu"
            )
    if not memory:
        problems.append(f"container {container} has no memory limit; set `memory` (runtime.resources.memory)")
    elif known(memory) and int(memory) * 1024**2 > ceilings.memory_bytes:
        problems.append(
            f"container {container} memory {int(memory)}MiB exceeds the stack's ceiling "
            f"{format_memory(ceilings.memory_bytes)}; lower runtime.resources.memory or raise maxMemory"
        )
    if not reservation:
        problems.append(
            f"container {container} has no memory request; set `memoryReservation` (runtime.resources.requests.memory)"
        )
    return problems


def check_container_resources(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    ceilings = Ceilings.from_config(config)
    if type_ == DOCKER_CONTAINER:
        return _docker_resources(name, props, ceilings)
    pod = pod_of(type_, props, name)
    if pod is None:
        return []
    return [p for c in pod.containers() for p in _k8s_resources(pod.owner, c, ceilings)]


# -- image-references ------------------------------------------------------------------
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _tag(reference: str) -> str | None:
    """The tag of an image reference (None when it has none, i.e. Docker's implicit latest)."""
    without_digest = reference.split("@", 1)[0]
    last = without_digest.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def _image_problems(what: str, image: Any, config: Mapping[str, Any]) -> Messages:
    if not known(image) or not isinstance(image, str):
        return []
    if re.fullmatch(r"sha256:[0-9a-f]{64}", image):
        return []  # an image ID: the exact image is pinned
    problems: Messages = []
    has_digest = bool(_DIGEST.search(image))
    tag = _tag(image)
    if config.get("forbidLatest", False) and not has_digest and (tag is None or tag.lower() == "latest"):
        shown = f"tag {tag!r}" if tag else "no tag (Docker reads it as 'latest')"
        problems.append(
            f"{what} image {image!r} has {shown}; this stack refuses ':latest': set runtime.image to a "
            "version tag such as ':1.2.0'"
        )
    if config.get("requireDigest", False) and not has_digest:
        problems.append(
            f"{what} image {image!r} is not pinned by digest; this stack requires '<image>@sha256:<digest>' "
            "in runtime.image"
        )
    return problems


def check_image_references(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    if type_ == DOCKER_CONTAINER:
        return _image_problems(f"container {name}", props.get("image"), config)
    if type_ == DOCKER_REMOTE_IMAGE:
        return _image_problems(f"image {name}", props.get("name"), config)
    pod = pod_of(type_, props, name)
    if pod is None:
        return []
    return [
        p
        for c in pod.containers()
        for p in _image_problems(f"{pod.owner} container {c.get('name', '?')!r}", c.get("image"), config)
    ]


# -- health-probes ---------------------------------------------------------------------
def check_health_probes(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    if type_ == DOCKER_CONTAINER:
        tests = get(props, "healthcheck", "tests")
        if tests == UNKNOWN or (isinstance(tests, Sequence) and tests and next(iter(tests)) != "NONE"):
            return []
        return [f"container {name} has no healthcheck; set one on the plugin's liveness path (api.liveness)"]
    pod = pod_of(type_, props, name) if type_ == K8S_DEPLOYMENT else None
    if pod is None:
        return []
    problems: Messages = []
    for container in pod.spec.get("containers") or []:
        for probe, field in (("readinessProbe", "api.readiness"), ("livenessProbe", "api.liveness")):
            if container.get(probe) is None:
                problems.append(
                    f"{pod.owner} container {container.get('name', '?')!r} has no {probe}; "
                    f"add one on the plugin's {field} path"
                )
    return problems


# -- container-hardening ---------------------------------------------------------------
def _drops_all(drops: Any) -> bool:
    return drops == UNKNOWN or (
        isinstance(drops, Sequence) and not isinstance(drops, str) and any(str(d).upper() == "ALL" for d in drops)
    )


def _root_user(user: Any) -> bool:
    if not known(user) or user == "":
        return user != UNKNOWN
    return str(user).split(":", 1)[0] in ("0", "root")


def _docker_hardening(name: str, props: Mapping[str, Any]) -> Messages:
    problems: Messages = []
    what = f"container {name}"
    if _root_user(props.get("user")):
        problems.append(f"{what} runs as root; set `user` to a non-root uid such as '1001:1001'")
    if props.get("readOnly") is not True and props.get("readOnly") != UNKNOWN:
        problems.append(f"{what} has a writable root filesystem; set `read_only=True` and a tmpfs for /tmp")
    opts = props.get("securityOpts")
    if opts != UNKNOWN and not any(str(o).startswith("no-new-privileges") for o in opts or []):
        problems.append(f"{what} allows privilege escalation; add 'no-new-privileges:true' to `security_opts`")
    if not _drops_all(get(props, "capabilities", "drops")):
        problems.append(f"{what} keeps Linux capabilities; drop them all: capabilities.drops=['ALL']")
    if props.get("privileged") is True:
        problems.append(f"{what} is privileged; remove `privileged=True`")
    return problems


def _k8s_hardening(owner: str, pod: Mapping[str, Any], container: Mapping[str, Any]) -> Messages:
    what = f"{owner} container {container.get('name', '?')!r}"
    ctx = container.get("securityContext")
    if ctx == UNKNOWN:
        return []
    ctx = ctx if isinstance(ctx, Mapping) else {}
    pod_ctx = pod.get("securityContext") if isinstance(pod.get("securityContext"), Mapping) else {}
    problems: Messages = []
    non_root = ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot"))
    user = ctx.get("runAsUser", pod_ctx.get("runAsUser"))
    if not (non_root is True or (isinstance(user, int) and user > 0)) or user == 0:
        problems.append(f"{what} may run as root; set securityContext.runAsNonRoot: true and runAsUser: 1001")
    if ctx.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{what} has a writable root filesystem; set securityContext.readOnlyRootFilesystem: true")
    if ctx.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{what} allows privilege escalation; set securityContext.allowPrivilegeEscalation: false")
    if not _drops_all(get(ctx, "capabilities", "drop")):
        problems.append(f"{what} keeps Linux capabilities; set securityContext.capabilities.drop: ['ALL']")
    if ctx.get("privileged") is True:
        problems.append(f"{what} is privileged; set securityContext.privileged: false")
    return problems


def check_container_hardening(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    if type_ == DOCKER_CONTAINER:
        return _docker_hardening(name, props)
    pod = pod_of(type_, props, name)
    if pod is None:
        return []
    return [p for c in pod.containers() for p in _k8s_hardening(pod.owner, pod.spec, c)]


# -- docker-loopback-ports -------------------------------------------------------------
def check_docker_ports(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    if type_ != DOCKER_CONTAINER or config.get("allowPublicPorts", False):
        return []
    problems: Messages = []
    for port in props.get("ports") or []:
        if not isinstance(port, Mapping):
            continue
        ip = port.get("ip")
        if ip == UNKNOWN:
            continue
        if ip is None or not is_local_host(str(ip), localhost_subdomains=False):
            shown = ip or "0.0.0.0 (every interface)"
            problems.append(
                f"container {name} publishes port {as_int(port.get('internal'))} on {shown}; bind it to 127.0.0.1 "
                "(plexica:docker.bindAddress) or set allowPublicPorts in this stack's policy config"
            )
    return problems
