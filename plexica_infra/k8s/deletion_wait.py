"""`plexica:k8s:DeletionWait`: a removed plugin's Deployment is gone when `up` returns.

A guarded Deployment carries `pulumi.com/skipAwait` (the rollout guard watches its
rollouts instead), and pulumi-kubernetes then skips its delete await too: `up` would
return while the removed plugin's Deployment, ReplicaSets and pods still terminate.
This resource exists beside each guarded Deployment and the Deployment depends on
it, so Pulumi deletes it right after the Deployment; its `delete` polls the API
server until the Deployment and its ReplicaSets are gone, bounded by the rollout
deadline plus 30 s. Past that it fails with one line, stays in the state, and the
next `up` waits again. Creating or updating it touches nothing in the cluster.
"""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from plexica_infra.errors import PlexicaError
from plexica_infra.k8s.cluster_api import ClusterApi
from plexica_infra.k8s.deployment_watch import DeletionWaitInputs
from plexica_infra.providers import pickle_state_restored, reported

__all__ = ["DeletionNotFinished", "DeletionWait", "DeletionWaitProvider"]

#: How much longer than the rollout deadline a deletion may take.
EXTRA_SECONDS = 30
_POLL_SECONDS = 0.5


class DeletionNotFinished(PlexicaError):
    """The Deployment or its ReplicaSets were still there at the deadline."""


def _left(cluster: ClusterApi, inputs: DeletionWaitInputs) -> list[str]:
    """What of the Deployment is still in the cluster."""
    left = []
    if cluster.deployment_or_none(inputs.namespace, inputs.deployment_name) is not None:
        left.append(f"Deployment {inputs.deployment_name}")
    replica_sets = cluster.replica_sets_matching(inputs.namespace, inputs.selector)
    return left + [f"ReplicaSet {rs['metadata']['name']}" for rs in replica_sets]


class DeletionWaitProvider(ResourceProvider):
    @reported
    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = DeletionWaitInputs.from_props(props)
        return CreateResult(id_=f"{inputs.namespace}/{inputs.deployment_name}", outs=inputs.props())

    @reported
    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Keep the new inputs: the delete that comes one day needs them.
        return UpdateResult(outs=DeletionWaitInputs.from_props(news).props())

    @reported
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = DeletionWaitInputs.from_props(news).changed(DeletionWaitInputs.from_props(olds))
        replaces = [key for key in changed if key in DeletionWaitInputs.REPLACE_KEYS]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    @reported
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=props)

    @reported
    def delete(self, _id: str, props: dict[str, Any]) -> None:
        inputs = DeletionWaitInputs.from_props(props)
        limit = inputs.deadline_seconds + EXTRA_SECONDS
        where = f"{inputs.namespace}/{inputs.deployment_name}"
        try:
            cluster = ClusterApi(inputs.kubeconfig or None, inputs.context or None)
            deadline = time.monotonic() + limit
            while left := _left(cluster, inputs):
                if time.monotonic() > deadline:
                    raise DeletionNotFinished(
                        f"plugin {inputs.plugin_id}: {', '.join(left)} of {where} still there {limit} s after the "
                        "delete; the next `pulumi up` waits for it again"
                    )
                time.sleep(_POLL_SECONDS)
        except PlexicaError:
            raise
        except Exception as exc:  # API errors: one line, not a traceback
            raise DeletionNotFinished(
                f"plugin {inputs.plugin_id}: could not check that Deployment {where} is gone: {exc}"
            ) from exc


class DeletionWait(Resource, module="plexica", name="DeletionWait"):
    """Its delete returns once the Deployment it names and its ReplicaSets are gone."""

    def __init__(
        self,
        name: str,
        *,
        plugin_id: str,
        namespace: pulumi.Input[str],
        deployment_name: str,
        selector: dict[str, str],
        deadline_seconds: int,
        kubeconfig: str | None,
        context: str | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = DeletionWaitInputs.resource_props(
            plugin_id=plugin_id,
            namespace=namespace,
            deployment_name=deployment_name,
            selector=selector,
            deadline_seconds=deadline_seconds,
            kubeconfig=kubeconfig or "",
            context=context or "",
        )
        with pickle_state_restored():
            super().__init__(DeletionWaitProvider(), name, props, opts)
