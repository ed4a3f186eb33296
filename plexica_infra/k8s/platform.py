"""`plexica:k8s:Platform`: what every plugin of a namespace shares.

The Kubernetes provider, the namespace (created or adopted), the guide's three
shared Secrets (once per namespace, never once per plugin) and, without the
Prometheus Operator, the scrape ConfigMap covering all plugins.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from plexica_infra.config import StackConfig, StackSecrets
from plexica_infra.k8s.names import K8sObject
from plexica_infra.k8s.objects import platform_objects, secrets_emitted
from plexica_infra.k8s.provider import kubeconfig_path, provider_args
from plexica_infra.k8s.resources import create_resource, metadata_name
from plexica_infra.k8s.secrets import SHARED_SECRETS
from plexica_infra.manifest import PluginManifest

__all__ = ["PLATFORM_TYPE", "KubernetesPlatform", "KubernetesPlatformArgs"]

PLATFORM_TYPE = "plexica:k8s:Platform"


class KubernetesPlatformArgs:
    def __init__(self, stack: StackConfig, secrets: StackSecrets, manifests: Sequence[PluginManifest]) -> None:
        self.stack = stack
        self.secrets = secrets
        self.manifests = list(manifests)


class KubernetesPlatform(pulumi.ComponentResource):
    provider: k8s.Provider
    #: The namespace name; depends on the Namespace when this stack creates it.
    namespace: pulumi.Output[str]
    #: Resources every plugin object must wait for (the created Namespace).
    namespace_dependencies: list[pulumi.Resource]
    #: The shared Secrets; plugin Deployments wait for them.
    secrets: list[pulumi.Resource]
    scrape_config_name: pulumi.Output[str | None]
    #: Absolute kubeconfig path of the stack (None: the provider's default).
    kubeconfig: str | None

    def __init__(self, name: str, args: KubernetesPlatformArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(PLATFORM_TYPE, name, None, opts)
        stack = args.stack
        child = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=self))
        self.kubeconfig = kubeconfig_path(stack.kubernetes)
        self.provider = k8s.Provider(f"{name}-kubernetes", **provider_args(stack.kubernetes), opts=child)
        objects = platform_objects(args.manifests, stack)

        in_cluster = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(provider=self.provider))
        self.namespace_dependencies = []
        self.namespace = pulumi.Output.from_input(stack.namespace)
        if objects.namespace is not None:
            # Retained on delete: the namespace also holds the platform's own services
            # (the guide's core-api, postgres, redis), which `pulumi destroy` must never
            # take down with it. Destroy removes the plugins' objects, not the namespace.
            retained = pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(retain_on_delete=True))
            created = create_resource(objects.namespace, retained)
            self.namespace_dependencies.append(created)
            self.namespace = metadata_name(created)

        namespaced = pulumi.ResourceOptions.merge(
            in_cluster, pulumi.ResourceOptions(depends_on=self.namespace_dependencies)
        )
        self.secrets = [
            _shared_secret(obj, getattr(args.secrets, secret.source), namespaced) for secret, obj in objects.secrets
        ]
        if not secrets_emitted(stack):
            pulumi.log.warn(
                f"renderYamlTo is set: the shared Secrets ({', '.join(s.name for s in SHARED_SECRETS)}) are "
                "not rendered, because rendered files hold values in plaintext; create them in the cluster "
                "from your secret store, or set plexica:kubernetes.renderSecrets to true",
                resource=self,
            )

        self.scrape_config_name = pulumi.Output.from_input(None)
        if objects.scrape_config is not None:
            self.scrape_config_name = metadata_name(create_resource(objects.scrape_config, namespaced))

        self.register_outputs(
            {
                "namespace": self.namespace,
                "secret_names": [secret.name for secret, _ in objects.secrets],
                "scrape_config_name": self.scrape_config_name,
            }
        )


def _shared_secret(obj: K8sObject, value: pulumi.Output[str], opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """The Secret with the stack's secret Output in place of its placeholder.

    `Output.secret` keeps the value secret even if the caller passed a plain Output;
    `additional_secret_outputs` keeps what the provider reads back (data) secret too.
    """
    (key,) = obj["stringData"]
    secret_opts = pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"])
    return create_resource(
        {**obj, "stringData": {key: pulumi.Output.secret(value)}}, pulumi.ResourceOptions.merge(opts, secret_opts)
    )
