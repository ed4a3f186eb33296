"""Service and NetworkPolicy, field by field (the guide's "Network Configuration")."""

from __future__ import annotations

from plexica_infra.k8s.network_policy import network_policy
from plexica_infra.k8s.peers import plugin_peers
from plexica_infra.k8s.service import service
from tests.k8s._support import _base_config, manifest, prod_stack, shipped

CRM_SELECTOR = {"app": "plexica", "component": "plugin", "plugin": "crm"}


def test_service_is_cluster_ip_on_the_plugin_port() -> None:
    obj = service(shipped("analytics"), prod_stack())
    assert obj["apiVersion"] == "v1"
    assert obj["kind"] == "Service"
    assert obj["metadata"]["name"] == "plugin-analytics"
    assert obj["metadata"]["namespace"] == "plexica"
    assert obj["metadata"]["labels"]["plugin"] == "analytics"
    assert obj["spec"] == {
        "type": "ClusterIP",
        "selector": {"app": "plexica", "component": "plugin", "plugin": "analytics"},
        "ports": [{"name": "http", "port": 3200, "targetPort": "http", "protocol": "TCP"}],
    }


def test_policy_selects_the_plugin_pods_and_denies_by_default() -> None:
    obj = network_policy(shipped("crm"), prod_stack())
    assert obj["apiVersion"] == "networking.k8s.io/v1"
    assert obj["kind"] == "NetworkPolicy"
    assert obj["metadata"]["name"] == "plugin-crm-network-policy"
    assert obj["metadata"]["namespace"] == "plexica"
    assert obj["spec"]["podSelector"] == {"matchLabels": CRM_SELECTOR}
    assert obj["spec"]["policyTypes"] == ["Ingress", "Egress"]


def test_ingress_from_gateway_core_api_and_prometheus_on_the_plugin_port() -> None:
    # prod sets prometheusSelector {app: prometheus}.
    ingress = network_policy(shipped("crm"), prod_stack())["spec"]["ingress"]
    assert ingress == [
        {
            "from": [{"podSelector": {"matchLabels": {"component": "api-gateway"}}}],
            "ports": [{"protocol": "TCP", "port": 3100}],
        },
        {
            "from": [{"podSelector": {"matchLabels": {"component": "core-api"}}}],
            "ports": [{"protocol": "TCP", "port": 3100}],
        },
        {
            "from": [{"podSelector": {"matchLabels": {"app": "prometheus"}}}],
            "ports": [{"protocol": "TCP", "port": 3100}],
        },
    ]


def test_prometheus_in_another_namespace() -> None:
    stack = _base_config(
        kubernetes={
            "prometheusSelector": {"app.kubernetes.io/name": "prometheus"},
            "prometheusNamespaceSelector": {"kubernetes.io/metadata.name": "monitoring"},
        }
    )
    ingress = network_policy(shipped("analytics"), stack)["spec"]["ingress"]
    assert ingress[2] == {
        "from": [
            {
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            }
        ],
        "ports": [{"protocol": "TCP", "port": 3200}],
    }


def test_without_prometheus_only_the_gateway_and_the_core_api_get_in() -> None:
    ingress = network_policy(shipped("crm"), _base_config())["spec"]["ingress"]
    assert ingress == [
        {
            "from": [{"podSelector": {"matchLabels": {"component": "api-gateway"}}}],
            "ports": [{"protocol": "TCP", "port": 3100}],
        },
        {
            "from": [{"podSelector": {"matchLabels": {"component": "core-api"}}}],
            "ports": [{"protocol": "TCP", "port": 3100}],
        },
    ]


def test_egress_is_the_guides_list() -> None:
    egress = network_policy(shipped("crm"), prod_stack())["spec"]["egress"]
    assert egress == [
        {
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
        {"to": [{"podSelector": {"matchLabels": {"app": "postgres"}}}], "ports": [{"protocol": "TCP", "port": 5432}]},
        {"to": [{"podSelector": {"matchLabels": {"app": "redis"}}}], "ports": [{"protocol": "TCP", "port": 6379}]},
        {
            "to": [{"podSelector": {"matchLabels": {"component": "core-api"}}}],
            "ports": [{"protocol": "TCP", "port": 3000}],
        },
        {
            "to": [{"podSelector": {"matchLabels": {"app": "redpanda"}}}],
            "ports": [{"protocol": "TCP", "port": 29092}],
        },
    ]


def test_selectors_and_ports_are_configurable_per_stack() -> None:
    stack = _base_config(
        kubernetes={
            "gatewaySelector": {"app.kubernetes.io/name": "gateway"},
            "dnsNamespaceSelector": {"name": "dns"},
            "postgres": {
                "selector": {"cnpg.io/cluster": "plexica"},
                "port": 6432,
                "namespaceSelector": {"kubernetes.io/metadata.name": "databases"},
            },
            "redis": {"selector": {"app": "valkey"}, "port": 6380},
            "coreApi": {"selector": {"app": "core"}, "port": 8080},
            "redpanda": {"selector": {"app.kubernetes.io/name": "redpanda"}, "port": 9093},
        }
    )
    spec = network_policy(shipped("crm"), stack)["spec"]
    assert spec["ingress"][0]["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}]
    egress = spec["egress"]
    assert egress[0]["to"] == [{"namespaceSelector": {"matchLabels": {"name": "dns"}}}]
    assert egress[1] == {
        "to": [
            {
                "podSelector": {"matchLabels": {"cnpg.io/cluster": "plexica"}},
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "databases"}},
            }
        ],
        "ports": [{"protocol": "TCP", "port": 6432}],
    }
    assert egress[2]["ports"] == [{"protocol": "TCP", "port": 6380}]
    assert egress[3]["to"] == [{"podSelector": {"matchLabels": {"app": "core"}}}]
    assert egress[3]["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert egress[4]["ports"] == [{"protocol": "TCP", "port": 9093}]


def test_manifest_egress_becomes_ip_blocks_after_the_platforms() -> None:
    m = manifest(
        deployment={
            "egress": [
                {"to": "203.0.113.10", "ports": [8443]},
                {"to": "198.51.100.0/24", "ports": [5353, 5354], "protocol": "UDP"},
            ]
        }
    )
    egress = network_policy(m, _base_config())["spec"]["egress"]
    assert len(egress) == 7
    assert egress[5] == {"to": [{"ipBlock": {"cidr": "203.0.113.10/32"}}], "ports": [{"protocol": "TCP", "port": 8443}]}
    assert egress[6] == {
        "to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}],
        "ports": [{"protocol": "UDP", "port": 5353}, {"protocol": "UDP", "port": 5354}],
    }


def test_declared_dependencies_open_exactly_that_path() -> None:
    crm, analytics = shipped("crm"), shipped("analytics")
    manifests = [crm, analytics]
    stack = prod_stack()
    crm_policy = network_policy(crm, stack, plugin_peers(crm, manifests))["spec"]
    analytics_policy = network_policy(analytics, stack, plugin_peers(analytics, manifests))["spec"]
    # analytics -> crm on crm's port, after the platform's destinations.
    assert analytics_policy["egress"][5:] == [
        {"to": [{"podSelector": {"matchLabels": CRM_SELECTOR}}], "ports": [{"protocol": "TCP", "port": 3100}]}
    ]
    # crm admits analytics on its own port.
    assert crm_policy["ingress"][3:] == [
        {
            "from": [
                {"podSelector": {"matchLabels": {"app": "plexica", "component": "plugin", "plugin": "analytics"}}}
            ],
            "ports": [{"protocol": "TCP", "port": 3100}],
        }
    ]
    # Nothing the other way round.
    assert len(crm_policy["egress"]) == 5
    assert len(analytics_policy["ingress"]) == 3
