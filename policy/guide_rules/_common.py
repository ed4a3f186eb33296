"""What every check shares: the engine's UNKNOWN placeholder, the resource type tokens,
and readers for the plain dicts the engine sends (paths, names, pod templates, quantities)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from plexica_infra.errors import QuantityError
from plexica_infra.quantities import parse_cpu, parse_memory

__all__ = [
    "DOCKER_CONTAINER",
    "DOCKER_REMOTE_IMAGE",
    "HPA_TYPES",
    "K8S_CONFIG_MAP",
    "K8S_DEPLOYMENT",
    "K8S_NETWORK_POLICY",
    "K8S_PDB",
    "K8S_SECRET",
    "POD_TEMPLATE_TYPES",
    "UNKNOWN",
    "Messages",
    "Pod",
    "StackResource",
    "as_int",
    "containers",
    "cpu_millicores",
    "get",
    "known",
    "memory_bytes",
    "name_of",
    "pod_of",
    "pod_spec",
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


def as_int(value: Any) -> Any:
    """JSON numbers arrive as floats: show 3100.0 as 3100."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


def get(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., None where a step is missing or not a map."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def name_of(props: Mapping[str, Any], fallback: str) -> str:
    name = get(props, "metadata", "name")
    return str(name) if known(name) else fallback


def pod_spec(type_: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if type_ == "kubernetes:core/v1:Pod":
        spec = get(props, "spec")
    elif type_ == "kubernetes:batch/v1:CronJob":
        spec = get(props, "spec", "jobTemplate", "spec", "template", "spec")
    else:
        spec = get(props, "spec", "template", "spec")
    return spec if isinstance(spec, Mapping) else None


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers"):
        items = spec.get(key)
        if isinstance(items, Sequence) and not isinstance(items, str):
            yield from (c for c in items if isinstance(c, Mapping))


def cpu_millicores(value: Any) -> int | None:
    """Millicores of a Kubernetes or Docker CPU quantity; None when it cannot be read."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return round(float(value) * 1000)
        return parse_cpu(str(value))
    except QuantityError:
        return None


def memory_bytes(value: Any) -> int | None:
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
class Pod:
    """A workload's pod template: `owner` names it in messages ("Deployment plugin-crm")."""

    owner: str
    spec: Mapping[str, Any]

    def containers(self) -> Iterator[Mapping[str, Any]]:
        return containers(self.spec)


def pod_of(type_: str, props: Mapping[str, Any], name: str) -> Pod | None:
    """The pod template of a workload kind (`POD_TEMPLATE_TYPES`), or None for any other resource."""
    spec = pod_spec(type_, props) if type_ in POD_TEMPLATE_TYPES else None
    if spec is None:
        return None
    return Pod(f"{type_.rsplit(':', 1)[-1]} {name_of(props, name)}", spec)


@dataclass(frozen=True)
class StackResource:
    type: str
    name: str
    props: Mapping[str, Any]
