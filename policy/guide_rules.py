"""The deployment guide's rules as pure checks over resource inputs.

Each check takes a resource's type token and its inputs (plain dicts and lists, as the
engine sends them, camelCase keys) plus the policy's config, and returns one message per
violation. A message names the object and says what to change. `__main__.py` wires the
checks into the Pulumi policy pack; tests can call them without an engine.

Values the engine does not know yet during a preview (outputs of other resources) are
the `UNKNOWN` sentinel: a check never fails on them.

Secret values arrive wrapped in `SecretStr`/`SecretList`/`SecretDict` (see `secrets.py`
in this folder), so `is_secret` tells a Pulumi secret from a plaintext value.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plexica_infra.errors import QuantityError
from plexica_infra.quantities import format_cpu, format_memory, parse_cpu, parse_memory

__all__ = [
    "DOCKER_CONTAINER",
    "DOCKER_REMOTE_IMAGE",
    "HPA_TYPES",
    "K8S_DEPLOYMENT",
    "K8S_NETWORK_POLICY",
    "K8S_PDB",
    "POD_TEMPLATE_TYPES",
    "UNKNOWN",
    "SecretDict",
    "SecretList",
    "SecretStr",
    "StackResource",
    "check_container_hardening",
    "check_container_resources",
    "check_docker_ports",
    "check_health_probes",
    "check_hpa_min_replicas",
    "check_hpa_owns_replicas",
    "check_image_references",
    "check_plaintext_secrets",
    "check_plugin_companions",
    "is_secret",
    "mark_secret",
]

#: The engine's placeholder for a value that is not known during a preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

DOCKER_CONTAINER = "docker:index/container:Container"
DOCKER_REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
K8S_NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
K8S_PDB = "kubernetes:policy/v1:PodDisruptionBudget"
K8S_SECRET = "kubernetes:core/v1:Secret"
K8S_CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
HPA_TYPES = (
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
)
#: Kinds whose `spec.template.spec` (or `spec`, for a Pod) holds containers.
POD_TEMPLATE_TYPES = (
    K8S_DEPLOYMENT,
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
)

Messages = list[str]


# -- secrets ---------------------------------------------------------------------------
class SecretStr(str):
    """A string the engine sent as a Pulumi secret."""


class SecretList(list[Any]):
    """A list the engine sent as a Pulumi secret (e.g. a container's whole `envs`)."""


class SecretDict(dict[str, Any]):
    """A map the engine sent as a Pulumi secret."""


def mark_secret(value: Any) -> Any:
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, list):
        return SecretList(value)
    if isinstance(value, dict):
        return SecretDict(value)
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, SecretStr | SecretList | SecretDict)


# -- helpers ---------------------------------------------------------------------------
def _int(value: Any) -> Any:
    """JSON numbers arrive as floats: show 3100.0 as 3100."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


def _get(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., None where a step is missing or not a map."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _name(props: Mapping[str, Any], fallback: str) -> str:
    name = _get(props, "metadata", "name")
    return str(name) if _known(name) else fallback


def pod_spec(type_: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if type_ == "kubernetes:core/v1:Pod":
        spec = _get(props, "spec")
    elif type_ == "kubernetes:batch/v1:CronJob":
        spec = _get(props, "spec", "jobTemplate", "spec", "template", "spec")
    else:
        spec = _get(props, "spec", "template", "spec")
    return spec if isinstance(spec, Mapping) else None


def _containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers"):
        items = spec.get(key)
        if isinstance(items, Sequence) and not isinstance(items, str):
            yield from (c for c in items if isinstance(c, Mapping))


def _cpu(value: Any) -> int | None:
    """Millicores of a Kubernetes or Docker CPU quantity; None when it cannot be read."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return round(float(value) * 1000)
        return parse_cpu(str(value))
    except QuantityError:
        return None


def _memory(value: Any) -> int | None:
    """Bytes of a Kubernetes memory quantity; None when it cannot be read."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        return parse_memory(text)
    except QuantityError:
        return None


@dataclass(frozen=True)
class Ceilings:
    cpu_millicores: int
    memory_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Ceilings:
        return cls(parse_cpu(str(config.get("maxCpu", "4"))), parse_memory(str(config.get("maxMemory", "8Gi"))))


# -- container-resources ---------------------------------------------------------------
def _k8s_resources(owner: str, container: Mapping[str, Any], ceilings: Ceilings) -> Messages:
    name = f"{owner} container {container.get('name', '?')!r}"
    resources = container.get("resources")
    if not _known(resources):
        return [] if resources == UNKNOWN else [f"{name} has no resources; set requests and limits for cpu and memory"]
    problems: Messages = []
    readers: dict[str, Callable[[Any], int | None]] = {"cpu": _cpu, "memory": _memory}
    ceiling = {"cpu": ceilings.cpu_millicores, "memory": ceilings.memory_bytes}
    shown = {"cpu": format_cpu, "memory": format_memory}
    for kind in ("limits", "requests"):
        for resource in ("cpu", "memory"):
            raw = _get(resources, kind, resource)
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
    elif _known(cpus):
        millicores = _cpu(cpus)
        if millicores is not None and millicores > ceilings.cpu_millicores:
            problems.append(
                f"container {container} cpus {cpus} exceeds the stack's ceiling "
                f"{format_cpu(ceilings.cpu_millicores)}; lower runtime.resources.cpu or raise maxCpu"
            )
    if not memory:
        problems.append(f"container {container} has no memory limit; set `memory` (runtime.resources.memory)")
    elif _known(memory) and int(memory) * 1024**2 > ceilings.memory_bytes:
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
    spec = pod_spec(type_, props) if type_ in POD_TEMPLATE_TYPES else None
    if spec is None:
        return []
    owner = f"{type_.rsplit(':', 1)[-1]} {_name(props, name)}"
    return [p for c in _containers(spec) for p in _k8s_resources(owner, c, ceilings)]


# -- image-references ------------------------------------------------------------------
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _tag(reference: str) -> str | None:
    """The tag of an image reference (None when it has none, i.e. Docker's implicit latest)."""
    without_digest = reference.split("@", 1)[0]
    last = without_digest.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


def _image_problems(what: str, image: Any, config: Mapping[str, Any]) -> Messages:
    if not _known(image) or not isinstance(image, str):
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
    spec = pod_spec(type_, props) if type_ in POD_TEMPLATE_TYPES else None
    if spec is None:
        return []
    owner = f"{type_.rsplit(':', 1)[-1]} {_name(props, name)}"
    return [
        p
        for c in _containers(spec)
        for p in _image_problems(f"{owner} container {c.get('name', '?')!r}", c.get("image"), config)
    ]


# -- health-probes ---------------------------------------------------------------------
def check_health_probes(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    if type_ == DOCKER_CONTAINER:
        tests = _get(props, "healthcheck", "tests")
        if tests == UNKNOWN or (isinstance(tests, Sequence) and tests and next(iter(tests)) != "NONE"):
            return []
        return [f"container {name} has no healthcheck; set one on the plugin's liveness path (api.liveness)"]
    if type_ != K8S_DEPLOYMENT:
        return []
    spec = pod_spec(type_, props)
    if spec is None:
        return []
    problems: Messages = []
    for container in spec.get("containers") or []:
        for probe, field in (("readinessProbe", "api.readiness"), ("livenessProbe", "api.liveness")):
            if container.get(probe) is None:
                problems.append(
                    f"Deployment {_name(props, name)} container {container.get('name', '?')!r} has no {probe}; "
                    f"add one on the plugin's {field} path"
                )
    return problems


# -- container-hardening ---------------------------------------------------------------
def _drops_all(drops: Any) -> bool:
    return drops == UNKNOWN or (
        isinstance(drops, Sequence) and not isinstance(drops, str) and any(str(d).upper() == "ALL" for d in drops)
    )


def _root_user(user: Any) -> bool:
    if not _known(user) or user == "":
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
    if not _drops_all(_get(props, "capabilities", "drops")):
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
    if not _drops_all(_get(ctx, "capabilities", "drop")):
        problems.append(f"{what} keeps Linux capabilities; set securityContext.capabilities.drop: ['ALL']")
    if ctx.get("privileged") is True:
        problems.append(f"{what} is privileged; set securityContext.privileged: false")
    return problems


def check_container_hardening(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    if type_ == DOCKER_CONTAINER:
        return _docker_hardening(name, props)
    spec = pod_spec(type_, props) if type_ in POD_TEMPLATE_TYPES else None
    if spec is None:
        return []
    owner = f"{type_.rsplit(':', 1)[-1]} {_name(props, name)}"
    return [p for c in _containers(spec) for p in _k8s_hardening(owner, spec, c)]


# -- hpa-min-replicas ------------------------------------------------------------------
def check_hpa_min_replicas(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    if type_ not in HPA_TYPES:
        return []
    floor = int(config.get("minReplicas", 1))
    current = _get(props, "spec", "minReplicas")
    if current == UNKNOWN:
        return []
    current = 1 if current is None else int(current)
    if current >= floor:
        return []
    return [
        f"HorizontalPodAutoscaler {_name(props, name)} has minReplicas {_int(current)}; this stack needs at least "
        f"{floor}: set deployment.autoscaling.minReplicas to {floor} or more"
    ]


# -- no-plaintext-secrets --------------------------------------------------------------
#: Environment names whose value is a credential (the guide's three secrets and the usual words).
SECRET_ENV = re.compile(
    r"(^|_)(PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIALS?|PRIVATE_KEY|API_KEY)($|_)|^DATABASE_URL$|^REDIS_URL$"
)
#: A URL with a password in it (scheme://user:password@host).
CREDENTIAL_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]*:[^/@\s]+@", re.IGNORECASE)


def _secret_expected(name: str, value: Any, extra: Sequence[str]) -> bool:
    credential_url = isinstance(value, str) and bool(CREDENTIAL_URL.match(value))
    return bool(SECRET_ENV.search(name)) or name in extra or credential_url


def check_plaintext_secrets(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    extra = [str(n) for n in config.get("secretEnvNames", [])]
    if type_ == DOCKER_CONTAINER:
        envs = props.get("envs")
        if not _known(envs) or is_secret(envs):
            return []
        problems: Messages = []
        for entry in envs:
            if not isinstance(entry, str) or is_secret(entry):
                continue
            var, _, value = entry.partition("=")
            if _secret_expected(var, value, extra):
                problems.append(
                    f"container {name} gets {var} in plaintext; pass it from a stack secret "
                    "(`pulumi config set --secret`) and declare additional_secret_outputs=['envs']"
                )
        return problems
    if type_ == K8S_CONFIG_MAP:
        data = props.get("data")
        return [
            f"ConfigMap {_name(props, name)} holds {key} in plaintext; move it to a Secret and reference it"
            for key, value in (data.items() if isinstance(data, Mapping) else [])
            if _secret_expected(str(key).upper().replace("-", "_").replace(".", "_"), value, extra)
        ]
    # Kubernetes Secrets need no check here: the Kubernetes provider marks every Secret's
    # data and stringData secret itself (state and previews stay encrypted).
    spec = pod_spec(type_, props) if type_ in POD_TEMPLATE_TYPES else None
    if spec is None:
        return []
    owner = f"{type_.rsplit(':', 1)[-1]} {_name(props, name)}"
    problems = []
    for container in _containers(spec):
        for var in container.get("env") or []:
            if not isinstance(var, Mapping) or "value" not in var:
                continue
            if _secret_expected(str(var.get("name", "")), var.get("value"), extra):
                problems.append(
                    f"{owner} container {container.get('name', '?')!r} sets {var.get('name')} as a plain value; "
                    "use valueFrom.secretKeyRef to a Secret"
                )
    return problems


# -- docker-loopback-ports -------------------------------------------------------------
def _loopback(ip: Any) -> bool:
    try:
        return ipaddress.ip_address(str(ip)).is_loopback
    except ValueError:
        return str(ip) == "localhost"


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
        if ip is None or not _loopback(ip):
            shown = ip or "0.0.0.0 (every interface)"
            problems.append(
                f"container {name} publishes port {_int(port.get('internal'))} on {shown}; bind it to 127.0.0.1 "
                "(plexica:docker.bindAddress) or set allowPublicPorts in this stack's policy config"
            )
    return problems


# -- stack policies --------------------------------------------------------------------
@dataclass(frozen=True)
class StackResource:
    type: str
    name: str
    props: Mapping[str, Any]


def _labels_match(selector: Any, labels: Mapping[str, Any]) -> bool:
    """A label selector's matchLabels against a pod template's labels (empty selector: all pods)."""
    match = _get(selector, "matchLabels") or {}
    if not isinstance(match, Mapping):
        return False
    return all(labels.get(k) == v for k, v in match.items())


def _plugin_deployments(resources: Sequence[StackResource]) -> Iterator[tuple[StackResource, Mapping[str, Any]]]:
    for r in resources:
        if r.type != K8S_DEPLOYMENT:
            continue
        labels = _get(r.props, "spec", "template", "metadata", "labels")
        if isinstance(labels, Mapping) and labels.get("component") == "plugin":
            yield r, labels


def check_plugin_companions(resources: Sequence[StackResource], config: Mapping[str, Any]) -> Messages:
    policies = [r for r in resources if r.type == K8S_NETWORK_POLICY]
    budgets = [r for r in resources if r.type == K8S_PDB]
    problems: Messages = []
    for deployment, labels in _plugin_deployments(resources):
        name = _name(deployment.props, deployment.name)
        plugin = labels.get("plugin", name)
        if config.get("requireNetworkPolicy", True) and not any(
            _labels_match(_get(p.props, "spec", "podSelector"), labels) for p in policies
        ):
            problems.append(
                f"plugin Deployment {name} has no NetworkPolicy selecting its pods; add one for plugin {plugin!r} "
                "(the k8s target creates plugin-<id>-network-policy)"
            )
        if config.get("requirePdb", True) and not any(
            _labels_match(_get(b.props, "spec", "selector"), labels) for b in budgets
        ):
            problems.append(
                f"plugin Deployment {name} has no PodDisruptionBudget selecting its pods; run at least 2 replicas "
                f"of plugin {plugin!r} (deployment.autoscaling.minReplicas or replicas) so one is created"
            )
    return problems


def check_hpa_owns_replicas(resources: Sequence[StackResource], config: Mapping[str, Any]) -> Messages:
    deployments = {
        (_get(r.props, "metadata", "namespace"), _name(r.props, r.name)): r
        for r in resources
        if r.type == K8S_DEPLOYMENT
    }
    problems: Messages = []
    for hpa in (r for r in resources if r.type in HPA_TYPES):
        target = _get(hpa.props, "spec", "scaleTargetRef")
        if _get(target, "kind") != "Deployment":
            continue
        key = (_get(hpa.props, "metadata", "namespace"), _get(target, "name"))
        deployment = deployments.get(key)
        if deployment is None:
            continue
        replicas = _get(deployment.props, "spec", "replicas")
        if replicas is not None and replicas != UNKNOWN:
            problems.append(
                f"Deployment {key[1]} sets spec.replicas {_int(replicas)} while HorizontalPodAutoscaler "
                f"{_name(hpa.props, hpa.name)} scales it; leave spec.replicas unset so `pulumi up` never resets "
                "the autoscaler's count"
            )
    return problems
