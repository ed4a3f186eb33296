"""The few Kubernetes API calls the rollout guard and the deletion wait make (lightkube).

They run inside Pulumi's dynamic-provider host, next to the engine, with the stack's
kubeconfig; objects come back as plain dicts for the pure functions in
`rollout_verdict.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plexica_infra.k8s.rollout_verdict import revision_of

__all__ = ["ClusterApi"]

#: The field manager of the guard's restore patches.
FIELD_MANAGER = "plexica-rollback"


class ClusterApi:
    def __init__(self, kubeconfig: str | None, context: str | None) -> None:
        from lightkube import Client, KubeConfig

        config = KubeConfig.from_file(kubeconfig) if kubeconfig else KubeConfig.from_env()
        self.client = Client(config.get(context_name=context) if context else config, field_manager=FIELD_MANAGER)

    def deployment(self, namespace: str, name: str) -> dict[str, Any]:
        from lightkube.resources.apps_v1 import Deployment

        return dict(self.client.get(Deployment, name, namespace=namespace).to_dict())

    def deployment_or_none(self, namespace: str, name: str) -> dict[str, Any] | None:
        from lightkube.core.exceptions import ApiError

        try:
            return self.deployment(namespace, name)
        except ApiError as exc:
            if exc.status.code == 404:
                return None
            raise

    def replica_sets(self, namespace: str, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The ReplicaSets this Deployment owns."""
        uid = deployment["metadata"]["uid"]
        labels = deployment["spec"]["selector"].get("matchLabels", {})
        return [
            rs
            for rs in self.replica_sets_matching(namespace, labels)
            if any(o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or [])
        ]

    def replica_sets_matching(self, namespace: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
        from lightkube.resources.apps_v1 import ReplicaSet

        return [rs.to_dict() for rs in self.client.list(ReplicaSet, namespace=namespace, labels=dict(labels))]

    def new_pods(self, namespace: str, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The pods of the Deployment's current revision."""
        from lightkube.resources.core_v1 import Pod

        current = revision_of(deployment)
        rs = [r for r in self.replica_sets(namespace, deployment) if revision_of(r) == current]
        if not rs:
            return []
        template_labels = rs[0]["spec"]["template"]["metadata"].get("labels", {})
        selector = {"pod-template-hash": template_labels.get("pod-template-hash", "")}
        return [p.to_dict() for p in self.client.list(Pod, namespace=namespace, labels=selector)]

    def restore(self, namespace: str, name: str, template: Mapping[str, Any]) -> None:
        """Set the Deployment's pod template (what `kubectl rollout undo` does)."""
        from lightkube.resources.apps_v1 import Deployment
        from lightkube.types import PatchType

        patch = [{"op": "replace", "path": "/spec/template", "value": dict(template)}]
        self.client.patch(Deployment, name, patch, namespace=namespace, patch_type=PatchType.JSON)
