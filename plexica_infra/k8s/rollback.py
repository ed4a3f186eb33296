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
out normally, a still-broken one is rolled back again. The verdicts are pure
functions (`rollout_verdict.py`); the API calls are `cluster_api.py`.
"""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from plexica_infra.errors import PlexicaError
from plexica_infra.k8s.cluster_api import ClusterApi
from plexica_infra.k8s.deployment_watch import RolloutGuardInputs
from plexica_infra.k8s.rollout_verdict import (
    RolloutVerdict,
    container_image,
    judge_rollout,
    previous_template,
    revision_of,
)
from plexica_infra.providers import pickle_state_restored, reported

__all__ = ["RolloutFailed", "RolloutGuard", "RolloutGuardProvider"]

_POLL_SECONDS = 0.5


class RolloutFailed(PlexicaError):
    """A rollout failed; the message says what was restored."""


def _watch(cluster: ClusterApi, namespace: str, name: str, deadline: float) -> tuple[RolloutVerdict, dict[str, Any]]:
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
    def _run(self, inputs: RolloutGuardInputs, *, can_restore: bool) -> dict[str, Any]:
        plugin, namespace, name = inputs.plugin_id, inputs.namespace, inputs.deployment_name
        deadline = float(inputs.deadline_seconds)
        try:
            cluster = ClusterApi(inputs.kubeconfig or None, inputs.context or None)
            verdict, deployment = _watch(cluster, namespace, name, deadline)
            if verdict.done:
                return {**inputs.props(), "revision": revision_of(deployment), "ready_replicas": verdict.ready}
            image = container_image(deployment["spec"]["template"])
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
        except PlexicaError:
            raise
        except Exception as exc:  # API errors: one line, not a traceback
            raise RolloutFailed(f"plugin {plugin}: could not watch Deployment {namespace}/{name}: {exc}") from exc
        raise RolloutFailed(
            f"plugin {plugin}: rollout of {image} failed ({verdict.failure}); rolled Deployment {namespace}/{name} "
            f"back to revision {revision} ({container_image(template)}), now revision {revision_of(after)}, "
            f"{serving}; the Core API stays on the previous version"
        )

    @reported
    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = RolloutGuardInputs.from_props(props)
        outs = self._run(inputs, can_restore=False)
        return CreateResult(id_=f"{inputs.namespace}/{inputs.deployment_name}", outs=outs)

    @reported
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._run(RolloutGuardInputs.from_props(news), can_restore=True))

    @reported
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = RolloutGuardInputs.from_props(news).changed(RolloutGuardInputs.from_props(olds))
        replaces = [key for key in changed if key in RolloutGuardInputs.REPLACE_KEYS]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    @reported
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=props)


class RolloutGuard(Resource, module="plexica", name="RolloutGuard"):
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
        props = RolloutGuardInputs.resource_props(
            plugin_id=plugin_id,
            namespace=namespace,
            deployment_name=deployment_name,
            template_hash=template_hash,
            deadline_seconds=deadline_seconds,
            kubeconfig=kubeconfig or "",
            context=context or "",
        )
        with pickle_state_restored():
            super().__init__(RolloutGuardProvider(), name, {**props, "revision": None, "ready_replicas": None}, opts)
