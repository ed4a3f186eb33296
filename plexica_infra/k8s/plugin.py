"""`plexica:k8s:Plugin`: one plugin's objects in the cluster.

Its children come straight from `plugin_objects`; the component only orders them.
Everything waits for the namespace. The Deployment also waits for the shared
Secrets, its ServiceAccount and NetworkPolicy, and the Deployments of the plugins
in the manifest's `dependencies` (Pulumi awaits a Deployment until its pods are
ready, so a plugin starts only once its dependencies are healthy). Only the
Deployment carries that edge: the other objects need nothing from a dependency,
and every extra edge lengthens the SDK's cycle check along a dependency chain.
The outputs are what the Core API registration needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from plexica_infra.config import StackConfig
from plexica_infra.k8s.deletion_wait import DeletionWait
from plexica_infra.k8s.objects import plugin_objects
from plexica_infra.k8s.peers import PluginPeers
from plexica_infra.k8s.platform import KubernetesPlatform
from plexica_infra.k8s.resources import create_resource, metadata_name
from plexica_infra.k8s.rollback import RolloutGuard
from plexica_infra.k8s.rollout_verdict import template_hash
from plexica_infra.manifest import PluginManifest

__all__ = ["PLUGIN_TYPE", "KubernetesPlugin", "KubernetesPluginArgs"]

PLUGIN_TYPE = "plexica:k8s:Plugin"


class KubernetesPluginArgs:
    def __init__(
        self,
        manifest: PluginManifest,
        stack: StackConfig,
        platform: KubernetesPlatform,
        dependencies: Sequence[KubernetesPlugin] = (),
        dependents: Sequence[PluginManifest] = (),
    ) -> None:
        self.manifest = manifest
        self.stack = stack
        self.platform = platform
        #: Components of the plugins in the manifest's `dependencies`, already created.
        self.dependencies = list(dependencies)
        #: Manifests of the plugins that list this one in their `dependencies`.
        self.dependents = list(dependents)


class KubernetesPlugin(pulumi.ComponentResource):
    manifest: PluginManifest
    #: The plugin's Deployment; dependent plugins' Deployments wait for it.
    deployment: pulumi.Resource
    #: plugin-<id>.<namespace>.svc.cluster.local
    service_dns: pulumi.Output[str]
    port: pulumi.Output[int]
    deployment_name: pulumi.Output[str]
    #: [http://<service_dns>:<port>]; resolves once the Deployment is rolled out.
    instance_urls: pulumi.Output[list[str]]
    #: The readiness URL of each instance URL (what decides whether it gets traffic).
    health_urls: pulumi.Output[list[str]]

    def __init__(self, name: str, args: KubernetesPluginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(PLUGIN_TYPE, name, None, opts)
        manifest = self.manifest = args.manifest
        platform = args.platform
        peers = PluginPeers(
            dependencies=tuple(dependency.manifest for dependency in args.dependencies),
            dependents=tuple(args.dependents),
        )
        objects = plugin_objects(manifest, args.stack, peers)
        child = pulumi.ResourceOptions.merge(
            opts,
            pulumi.ResourceOptions(
                parent=self,
                provider=platform.provider,
                depends_on=platform.namespace_dependencies,
            ),
        )

        service_account = create_resource(objects.service_account, child)
        # The policy exists before the first pod, so no pod ever runs unrestricted.
        network_policy = create_resource(objects.network_policy, child)
        waits_for = [
            *platform.secrets,
            service_account,
            network_policy,
            *(dependency.deployment for dependency in args.dependencies),
        ]
        settings = args.stack.kubernetes
        if settings.guards_rollouts:
            # pulumi-kubernetes does not await the delete of a skipAwait Deployment: this
            # resource, deleted right after the Deployment, waits until it is gone.
            waits_for.append(
                DeletionWait(
                    f"{name}-deletion",
                    plugin_id=manifest.id,
                    namespace=platform.namespace,
                    deployment_name=objects.deployment["metadata"]["name"],
                    selector=dict(objects.deployment["spec"]["selector"]["matchLabels"]),
                    deadline_seconds=settings.progress_deadline_seconds,
                    kubeconfig=platform.kubeconfig,
                    context=settings.kubeconfig_context,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=platform.namespace_dependencies),
                )
            )
        deployment = create_resource(
            objects.deployment, pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=waits_for))
        )
        self.deployment = deployment
        # Whoever waits for this plugin (dependent plugins, the Core API side) waits for
        # its rollout: the guard's when it guards rollouts, else Pulumi's own await.
        rolled_out: pulumi.Resource = deployment
        if settings.guards_rollouts:
            rolled_out = RolloutGuard(
                f"{name}-rollout",
                plugin_id=manifest.id,
                namespace=platform.namespace,
                deployment_name=metadata_name(deployment),
                template_hash=template_hash(objects.deployment),
                deadline_seconds=settings.progress_deadline_seconds,
                kubeconfig=platform.kubeconfig,
                context=settings.kubeconfig_context,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
            )
            self.deployment = rolled_out
        service = create_resource(objects.service, child)
        for optional in (objects.hpa, objects.pdb, objects.service_monitor, objects.prometheus_rule):
            if optional is not None:
                create_resource(optional, child)

        port = manifest.deployment.port
        readiness_path = manifest.api.readiness_path
        self.port = pulumi.Output.from_input(port)
        self.deployment_name = metadata_name(deployment)
        self.service_dns = pulumi.Output.all(metadata_name(service), platform.namespace).apply(
            lambda parts: f"{parts[0]}.{parts[1]}.svc.cluster.local"
        )
        # 'cluster-ip': for a Core API on a node that routes Service IPs but has no cluster DNS.
        host: pulumi.Output[str] = self.service_dns
        if settings.registry_endpoints == "cluster-ip":
            spec: pulumi.Output[Any] = service.spec  # type: ignore[attr-defined]
            host = spec.apply(lambda s: str(s["cluster_ip"] if isinstance(s, dict) else s.cluster_ip))
        self.instance_urls = pulumi.Output.all(host, self.deployment_name, _rolled_out_marker(rolled_out)).apply(
            lambda parts: [f"http://{parts[0]}:{port}"]
        )
        self.health_urls = self.instance_urls.apply(lambda urls: [f"{url}{readiness_path}" for url in urls])

        self.register_outputs(
            {
                "service_dns": self.service_dns,
                "port": self.port,
                "deployment_name": self.deployment_name,
                "instance_urls": self.instance_urls,
                "health_urls": self.health_urls,
            }
        )


def _rolled_out_marker(resource: pulumi.Resource) -> pulumi.Output[str]:
    """An Output that resolves once `resource` (guard or Deployment) is done."""
    return pulumi.Output.from_input(resource.urn).apply(str)
