"""The plugin NetworkPolicy: the guide's "Network Policies (Kubernetes)".

Both directions are listed in `policyTypes`, so anything not allowed here is
denied for the plugin's pods: ingress from the API gateway, from the Core API (its
install health check), from Prometheus when configured and from the plugins that
depend on this one, egress to DNS, the
platform services, the plugins this one depends on and the manifest's declared
destinations only.
"""

from __future__ import annotations

from plexica_infra.config import PeerSettings, StackConfig
from plexica_infra.k8s.labels import plugin_labels, selector_labels
from plexica_infra.k8s.names import K8sObject, network_policy_name, object_metadata
from plexica_infra.k8s.peers import NO_PEERS, PluginPeers
from plexica_infra.manifest import PluginManifest

__all__ = ["DNS_PORT", "network_policy"]

DNS_PORT = 53


def _pod_peer(selector: dict[str, str], namespace_selector: dict[str, str] | None) -> K8sObject:
    peer: K8sObject = {"podSelector": {"matchLabels": dict(selector)}}
    if namespace_selector is not None:
        peer["namespaceSelector"] = {"matchLabels": dict(namespace_selector)}
    return peer


def _rule(direction: str, peers: list[K8sObject], ports: list[tuple[str, int]]) -> K8sObject:
    return {direction: peers, "ports": [{"protocol": protocol, "port": port} for protocol, port in ports]}


def _platform_egress(peer: PeerSettings) -> K8sObject:
    return _rule("to", [_pod_peer(peer.selector, peer.namespace_selector)], [(peer.protocol, peer.port)])


def _ingress(manifest: PluginManifest, stack: StackConfig, peers: PluginPeers) -> list[K8sObject]:
    settings = stack.kubernetes
    port = manifest.deployment.port
    rules = [
        _rule("from", [_pod_peer(settings.gateway_selector, None)], [("TCP", port)]),
        # The Core API health-checks the plugin on install and update (the guide's deployment
        # flow: GET /health/live, /health/ready), so it must reach the plugin port too.
        _rule(
            "from",
            [_pod_peer(settings.core_api.selector, settings.core_api.namespace_selector)],
            [("TCP", port)],
        ),
    ]
    if settings.prometheus_selector is not None:
        # Metrics are served on the plugin port (the guide's /metrics route).
        rules.append(
            _rule(
                "from",
                [_pod_peer(settings.prometheus_selector, settings.prometheus_namespace_selector)],
                [("TCP", port)],
            )
        )
    if peers.dependents:
        # Plugins that declared this one as a dependency (readiness checks, direct calls).
        rules.append(_rule("from", [_pod_peer(selector_labels(m), None) for m in peers.dependents], [("TCP", port)]))
    return rules


def _egress(manifest: PluginManifest, stack: StackConfig, peers: PluginPeers) -> list[K8sObject]:
    settings = stack.kubernetes
    dns = _rule(
        "to",
        [{"namespaceSelector": {"matchLabels": dict(settings.dns_namespace_selector)}}],
        # TCP too: DNS falls back to TCP for answers that don't fit in UDP.
        [("UDP", DNS_PORT), ("TCP", DNS_PORT)],
    )
    platform = [
        _platform_egress(peer) for peer in (settings.postgres, settings.redis, settings.core_api, settings.redpanda)
    ]
    dependencies = [
        _rule("to", [_pod_peer(selector_labels(dep), None)], [("TCP", dep.deployment.port)])
        for dep in peers.dependencies
    ]
    declared = [
        _rule("to", [{"ipBlock": {"cidr": rule.to}}], [(rule.protocol, port) for port in rule.ports])
        for rule in manifest.deployment.egress
    ]
    return [dns, *platform, *dependencies, *declared]


def network_policy(manifest: PluginManifest, stack: StackConfig, peers: PluginPeers = NO_PEERS) -> K8sObject:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": object_metadata(network_policy_name(manifest.id), stack.namespace, plugin_labels(manifest)),
        "spec": {
            "podSelector": {"matchLabels": selector_labels(manifest)},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": _ingress(manifest, stack, peers),
            "egress": _egress(manifest, stack, peers),
        },
    }
