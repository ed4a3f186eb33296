"""Automatic rollback of a failed Deployment rollout: `plexica:k8s:RolloutGuard`.

pulumi-kubernetes awaits a Deployment and, when the rollout fails, reports the
failure and leaves the Deployment on the new, failing template (its issue #3649).
With `plexica:kubernetes.rollback` on (the default), the Deployment is applied
without Pulumi's await (`pulumi.com/skipAwait`) and this dynamic resource watches
the rollout instead:

- success: every replica runs the new template and is ready → the Core API side,
  which waits for this resource, registers the new version;
- failure: readiness never passes within `progressDeadlineSeconds` (Kubernetes'
  `ProgressDeadlineExceeded`, or our own clock), or a new pod crashes (restarts,
  `CrashLoopBackOff`, image or config errors) → the Deployment's template is set
  back to the previous revision's (what `kubectl rollout undo` does), the rollout
  is awaited until it serves again, and the update fails with one line naming the
  plugin, the trigger and what was restored. Nothing after it runs, so the Core
  API stays on the old version.

The next `pulumi up` refreshes first (`refresh: always`), sees the restored
template in the cluster and applies the manifest again: a fixed manifest rolls
out normally, a still-broken one is rolled back again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

import plexica_infra.providers._base  # noqa: F401  (one-line errors in the dynamic provider host)
from plexica_infra.errors import PlexicaError

__all__ = [
    "CRASH_REASONS",
    "RolloutFailed",
    "RolloutGuard",
    "RolloutGuardProvider",
    "RolloutVerdict",
    "judge_rollout",
    "previous_template",
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
REVISION = "deployment.kubernetes.io/revision"
_POLL_SECONDS = 0.5


class RolloutFailed(PlexicaError):
    """A rollout failed; the message says what was restored."""


def template_hash(deployment: Mapping[str, Any]) -> str:
    """What decides whether the guard must watch a rollout: the Deployment's spec."""
    return hashlib.sha256(json.dumps(deployment.get("spec", {}), sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RolloutVerdict:
    done: bool = False
    failure: str | None = None
    ready: int = 0
    wanted: int = 0


def _revision(obj: Mapping[str, Any]) -> int:
    try:
        return int(obj.get("metadata", {}).get("annotations", {}).get(REVISION, "0"))
    except ValueError:
        return 0


def judge_rollout(
    deployment: Mapping[str, Any], new_pods: Sequence[Mapping[str, Any]], *, elapsed: float, deadline: float
) -> RolloutVerdict:
    """Done, failed (with the trigger) or still going, from the Deployment and its new pods."""
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    wanted = int(spec.get("replicas", 1))
    ready = int(status.get("availableReplicas") or 0)
    generation = int(deployment.get("metadata", {}).get("generation", 0))
    observed = int(status.get("observedGeneration") or 0)
    if observed < generation:
        # Until the controller has seen this generation (e.g. just after a restore), the
        # conditions, the revision and so the "new" pods may still be the failed rollout's.
        if elapsed > deadline:
            return RolloutVerdict(failure=f"readiness never passed within {deadline:.0f}s", ready=ready, wanted=wanted)
        return RolloutVerdict(ready=ready, wanted=wanted)
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return RolloutVerdict(failure=f"readiness never passed within {deadline:.0f}s", ready=ready, wanted=wanted)
    for pod in new_pods:
        name = pod.get("metadata", {}).get("name", "?")
        for container in pod.get("status", {}).get("containerStatuses") or []:
            waiting = (container.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            if reason in CRASH_REASONS:
                return RolloutVerdict(failure=f"pod {name} is in {reason}", ready=ready, wanted=wanted)
            restarts = int(container.get("restartCount") or 0)
            if restarts >= CRASH_RESTARTS:
                return RolloutVerdict(failure=f"pod {name} crashed ({restarts} restarts)", ready=ready, wanted=wanted)
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    if updated >= wanted and total == updated and ready >= wanted:
        return RolloutVerdict(done=True, ready=ready, wanted=wanted)
    if elapsed > deadline:
        return RolloutVerdict(failure=f"readiness never passed within {deadline:.0f}s", ready=ready, wanted=wanted)
    return RolloutVerdict(ready=ready, wanted=wanted)


def previous_template(
    deployment: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]]
) -> tuple[int, dict[str, Any]] | None:
    """The newest ReplicaSet revision below the Deployment's, and its pod template (hash label removed)."""
    current = _revision(deployment)
    older = [rs for rs in replica_sets if 0 < _revision(rs) < current]
    if not older:
        return None
    best = max(older, key=_revision)
    template = json.loads(json.dumps(best.get("spec", {}).get("template", {})))
    template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return _revision(best), template


def _image(template: Mapping[str, Any]) -> str:
    containers = template.get("spec", {}).get("containers") or [{}]
    return str(containers[0].get("image", "?"))


class _Cluster:
    """The few API calls the guard needs (lightkube, generic dicts)."""

    def __init__(self, kubeconfig: str | None, context: str | None) -> None:
        from lightkube import Client, KubeConfig

        config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
        self.client = Client(config.get(context_name=context) if context else config, field_manager="plexica-rollback")

    def deployment(self, namespace: str, name: str) -> dict[str, Any]:
        from lightkube.resources.apps_v1 import Deployment

        return dict(self.client.get(Deployment, name, namespace=namespace).to_dict())

    def replica_sets(self, namespace: str, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
        from lightkube.resources.apps_v1 import ReplicaSet

        uid = deployment["metadata"]["uid"]
        labels = deployment["spec"]["selector"].get("matchLabels", {})
        found = [rs.to_dict() for rs in self.client.list(ReplicaSet, namespace=namespace, labels=labels)]
        return [rs for rs in found if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or [])]

    def new_pods(self, namespace: str, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
        from lightkube.resources.core_v1 import Pod

        current = _revision(deployment)
        rs = [r for r in self.replica_sets(namespace, deployment) if _revision(r) == current]
        if not rs:
            return []
        template_labels = rs[0]["spec"]["template"]["metadata"].get("labels", {})
        selector = {"pod-template-hash": template_labels.get("pod-template-hash", "")}
        return [p.to_dict() for p in self.client.list(Pod, namespace=namespace, labels=selector)]

    def restore(self, namespace: str, name: str, template: Mapping[str, Any]) -> None:
        from lightkube.resources.apps_v1 import Deployment
        from lightkube.types import PatchType

        patch = [{"op": "replace", "path": "/spec/template", "value": dict(template)}]
        self.client.patch(Deployment, name, patch, namespace=namespace, patch_type=PatchType.JSON)


def _watch(cluster: _Cluster, namespace: str, name: str, deadline: float) -> tuple[RolloutVerdict, dict[str, Any]]:
    # Like Kubernetes' progressDeadlineSeconds, our own clock measures time without
    # progress (another replica updated or ready), not the rollout's total time.
    last_progress = time.monotonic()
    seen: tuple[int, int] | None = None
    while True:
        deployment = cluster.deployment(namespace, name)
        status = deployment.get("status", {})
        progress = (int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0))
        if progress != seen:
            last_progress, seen = time.monotonic(), progress
        verdict = judge_rollout(
            deployment,
            cluster.new_pods(namespace, deployment),
            elapsed=time.monotonic() - last_progress,
            deadline=deadline,
        )
        if verdict.done or verdict.failure:
            return verdict, deployment
        time.sleep(_POLL_SECONDS)


class RolloutGuardProvider(ResourceProvider):
    def _run(self, props: Mapping[str, Any], *, can_restore: bool) -> dict[str, Any]:
        plugin, namespace, name = props["plugin_id"], props["namespace"], props["deployment_name"]
        deadline = float(props["deadline_seconds"])
        try:
            cluster = _Cluster(props.get("kubeconfig") or None, props.get("context") or None)
            verdict, deployment = _watch(cluster, namespace, name, deadline)
            if verdict.done:
                return {**props, "revision": _revision(deployment), "ready_replicas": verdict.ready}
            image = _image(deployment["spec"]["template"])
            previous = (
                previous_template(deployment, cluster.replica_sets(namespace, deployment)) if can_restore else None
            )
            if previous is None:
                raise RolloutFailed(
                    f"plugin {plugin}: rollout of Deployment {namespace}/{name} ({image}) failed: {verdict.failure}; "
                    "no earlier revision to restore (first rollout), so the Core API was not told about it"
                )
            revision, template = previous
            cluster.restore(namespace, name, template)
            restored, after = _watch(cluster, namespace, name, deadline)
            serving = (
                f"serving again ({restored.ready}/{restored.wanted} ready)"
                if restored.done
                else f"NOT serving yet: {restored.failure}"
            )
        except RolloutFailed:
            raise
        except Exception as exc:  # API errors: one line, not a traceback
            raise RolloutFailed(f"plugin {plugin}: could not watch Deployment {namespace}/{name}: {exc}") from exc
        raise RolloutFailed(
            f"plugin {plugin}: rollout of {image} failed ({verdict.failure}); rolled Deployment {namespace}/{name} "
            f"back to revision {revision} ({_image(template)}), now revision {_revision(after)}, {serving}; "
            "the Core API stays on the previous version"
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self._run(props, can_restore=False)
        return CreateResult(id_=f"{props['namespace']}/{props['deployment_name']}", outs=outs)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._run(news, can_restore=True))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("plugin_id", "namespace", "deployment_name", "template_hash", "deadline_seconds")
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        replaces = [key for key in changed if key in ("namespace", "deployment_name")]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=props)


class RolloutGuard(Resource):
    """Waits for a Deployment's rollout; rolls it back and fails when the rollout fails."""

    revision: pulumi.Output[int]

    def __init__(
        self,
        name: str,
        *,
        plugin_id: str,
        namespace: pulumi.Input[str],
        deployment_name: pulumi.Input[str],
        template_hash: str,
        deadline_seconds: int,
        kubeconfig: str | None,
        context: str | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            RolloutGuardProvider(),
            name,
            {
                "plugin_id": plugin_id,
                "namespace": namespace,
                "deployment_name": deployment_name,
                "template_hash": template_hash,
                "deadline_seconds": deadline_seconds,
                "kubeconfig": kubeconfig or "",
                "context": context or "",
                "revision": None,
                "ready_replicas": None,
            },
            opts,
        )
