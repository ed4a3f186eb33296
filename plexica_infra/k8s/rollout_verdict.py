"""Is a Deployment's rollout done, failed or still going? Pure functions over API objects.

The rollout guard (`rollback.py`) reads the Deployment, its ReplicaSets and the new
pods from the API server and asks these functions; nothing here talks to a cluster.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CRASH_REASONS",
    "CRASH_RESTARTS",
    "REVISION",
    "RolloutVerdict",
    "container_image",
    "judge_rollout",
    "previous_template",
    "revision_of",
    "template_hash",
]

#: Waiting reasons that mean the new pods will not become ready by waiting longer.
CRASH_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ErrImagePull",
        "ImagePullBackOff",
        "ErrImageNeverPull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)
#: A new pod whose containers restarted this often is crashing.
CRASH_RESTARTS = 2
#: The annotation the Deployment controller numbers revisions with.
REVISION = "deployment.kubernetes.io/revision"


@dataclass(frozen=True)
class RolloutVerdict:
    done: bool = False
    failure: str | None = None
    ready: int = 0
    wanted: int = 0


def template_hash(deployment: Mapping[str, Any]) -> str:
    """What decides whether the guard must watch a rollout: the Deployment's spec."""
    return hashlib.sha256(json.dumps(deployment.get("spec", {}), sort_keys=True).encode()).hexdigest()[:16]


def revision_of(obj: Mapping[str, Any]) -> int:
    """The revision annotation of a Deployment or ReplicaSet (0 when absent or not a number)."""
    try:
        return int(obj.get("metadata", {}).get("annotations", {}).get(REVISION, "0"))
    except ValueError:
        return 0


def container_image(template: Mapping[str, Any]) -> str:
    """The first container's image of a pod template."""
    containers = template.get("spec", {}).get("containers") or [{}]
    return str(containers[0].get("image", "?"))


def _crash(pod: Mapping[str, Any]) -> str | None:
    name = pod.get("metadata", {}).get("name", "?")
    for container in pod.get("status", {}).get("containerStatuses") or []:
        reason = ((container.get("state") or {}).get("waiting") or {}).get("reason")
        if reason in CRASH_REASONS:
            return f"pod {name} is in {reason}"
        restarts = int(container.get("restartCount") or 0)
        if restarts >= CRASH_RESTARTS:
            return f"pod {name} crashed ({restarts} restarts)"
    return None


def judge_rollout(
    deployment: Mapping[str, Any], new_pods: Sequence[Mapping[str, Any]], *, elapsed: float, deadline: float
) -> RolloutVerdict:
    """Done, failed (with the trigger) or still going, from the Deployment and its new pods.

    `elapsed` is the time without progress (like Kubernetes' `progressDeadlineSeconds`).
    """
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    wanted = int(spec.get("replicas", 1))
    ready = int(status.get("availableReplicas") or 0)
    late = RolloutVerdict(failure=f"readiness never passed within {deadline:.0f}s", ready=ready, wanted=wanted)
    generation = int(deployment.get("metadata", {}).get("generation", 0))
    if int(status.get("observedGeneration") or 0) < generation:
        # Until the controller has seen this generation (e.g. just after a restore), the
        # conditions, the revision and so the "new" pods may still be the failed rollout's.
        return late if elapsed > deadline else RolloutVerdict(ready=ready, wanted=wanted)
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return late
    for pod in new_pods:
        crash = _crash(pod)
        if crash is not None:
            return RolloutVerdict(failure=crash, ready=ready, wanted=wanted)
    updated = int(status.get("updatedReplicas") or 0)
    if updated >= wanted and int(status.get("replicas") or 0) == updated and ready >= wanted:
        return RolloutVerdict(done=True, ready=ready, wanted=wanted)
    return late if elapsed > deadline else RolloutVerdict(ready=ready, wanted=wanted)


def previous_template(
    deployment: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]]
) -> tuple[int, dict[str, Any]] | None:
    """The newest ReplicaSet revision below the Deployment's, and its pod template (hash label removed)."""
    current = revision_of(deployment)
    older = [rs for rs in replica_sets if 0 < revision_of(rs) < current]
    if not older:
        return None
    best = max(older, key=revision_of)
    template: dict[str, Any] = json.loads(json.dumps(best.get("spec", {}).get("template", {})))
    template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return revision_of(best), template
