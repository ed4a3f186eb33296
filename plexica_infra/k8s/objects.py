"""Every Kubernetes object the target emits, assembled from the per-kind builders.

This is the single place that decides which optional objects exist (HPA, PDB,
ServiceMonitor, PrometheusRule, scrape ConfigMap, Namespace, Secrets); the Pulumi
components and the offline renderer (`render_objects`) both read it, so what is
validated and scanned in tests is exactly what is deployed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from plexica_infra.config import StackConfig
from plexica_infra.k8s.deployment import deployment
from plexica_infra.k8s.hpa import hpa
from plexica_infra.k8s.names import K8sObject
from plexica_infra.k8s.namespace import namespace
from plexica_infra.k8s.network_policy import network_policy
from plexica_infra.k8s.pdb import pdb
from plexica_infra.k8s.peers import NO_PEERS, PluginPeers, plugin_peers
from plexica_infra.k8s.prometheus_rule import prometheus_rule
from plexica_infra.k8s.scrape_config import scrape_config
from plexica_infra.k8s.secrets import SHARED_SECRETS, SharedSecret, shared_secret
from plexica_infra.k8s.service import service
from plexica_infra.k8s.service_account import service_account
from plexica_infra.k8s.service_monitor import service_monitor
from plexica_infra.manifest import PluginManifest

__all__ = [
    "PlatformObjects",
    "PluginObjects",
    "platform_objects",
    "plugin_objects",
    "render_objects",
    "secrets_emitted",
]


@dataclass(frozen=True)
class PluginObjects:
    service_account: K8sObject
    deployment: K8sObject
    service: K8sObject
    network_policy: K8sObject
    hpa: K8sObject | None
    pdb: K8sObject | None
    service_monitor: K8sObject | None
    prometheus_rule: K8sObject | None

    def all(self) -> list[K8sObject]:
        candidates = (
            self.service_account,
            self.network_policy,
            self.deployment,
            self.service,
            self.hpa,
            self.pdb,
            self.service_monitor,
            self.prometheus_rule,
        )
        return [obj for obj in candidates if obj is not None]


def plugin_objects(manifest: PluginManifest, stack: StackConfig, peers: PluginPeers = NO_PEERS) -> PluginObjects:
    operator = stack.kubernetes.prometheus_operator
    return PluginObjects(
        service_account=service_account(manifest, stack),
        deployment=deployment(manifest, stack, peers),
        service=service(manifest, stack),
        network_policy=network_policy(manifest, stack, peers),
        hpa=hpa(manifest, stack),
        pdb=pdb(manifest, stack),
        service_monitor=service_monitor(manifest, stack) if operator else None,
        prometheus_rule=prometheus_rule(manifest, stack) if operator else None,
    )


@dataclass(frozen=True)
class PlatformObjects:
    namespace: K8sObject | None
    #: Each Secret with placeholder values; the Platform component fills in the stack's secrets.
    secrets: tuple[tuple[SharedSecret, K8sObject], ...]
    scrape_config: K8sObject | None

    def all(self) -> list[K8sObject]:
        objects = [self.namespace, *(obj for _, obj in self.secrets), self.scrape_config]
        return [obj for obj in objects if obj is not None]


def secrets_emitted(stack: StackConfig) -> bool:
    """Rendered YAML would hold the secret values in plaintext: leave them out unless asked."""
    settings = stack.kubernetes
    return settings.render_yaml_to is None or settings.render_secrets


def platform_objects(manifests: Sequence[PluginManifest], stack: StackConfig) -> PlatformObjects:
    secrets = (
        tuple((secret, shared_secret(secret, stack.namespace)) for secret in SHARED_SECRETS)
        if secrets_emitted(stack)
        else ()
    )
    return PlatformObjects(
        namespace=namespace(stack),
        secrets=secrets,
        scrape_config=None if stack.kubernetes.prometheus_operator else scrape_config(manifests, stack),
    )


def render_objects(manifests: Sequence[PluginManifest], stack: StackConfig) -> list[K8sObject]:
    """All objects of a stack, platform first, with secret placeholders instead of values."""
    objects = platform_objects(manifests, stack).all()
    for manifest in manifests:
        objects.extend(plugin_objects(manifest, stack, plugin_peers(manifest, manifests)).all())
    return objects
