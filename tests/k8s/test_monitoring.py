"""Monitoring: the guide's scrape_configs ConfigMap, or ServiceMonitor + PrometheusRule."""

from __future__ import annotations

import yaml

from plexica_infra.k8s.objects import platform_objects, plugin_objects
from plexica_infra.k8s.prometheus_rule import prometheus_rule
from plexica_infra.k8s.scrape_config import scrape_config
from plexica_infra.k8s.service_monitor import service_monitor
from tests.k8s._support import _base_config, manifest, prod_stack, shipped, shipped_plugins


def test_scrape_config_has_a_job_per_plugin() -> None:
    manifests = [plugin.manifest for plugin in shipped_plugins()]
    obj = scrape_config(manifests, prod_stack())
    assert obj["apiVersion"] == "v1"
    assert obj["kind"] == "ConfigMap"
    assert obj["metadata"]["name"] == "plexica-plugin-scrape-configs"
    assert obj["metadata"]["namespace"] == "plexica"
    assert list(obj["data"]) == ["plugins.yml"]
    document = yaml.safe_load(obj["data"]["plugins.yml"])
    assert document == {
        "scrape_configs": [
            {
                "job_name": "plugin-analytics",
                "static_configs": [{"targets": ["plugin-analytics.plexica.svc.cluster.local:3200"]}],
                "metrics_path": "/metrics",
                "scrape_interval": "15s",
            },
            {
                "job_name": "plugin-crm",
                "static_configs": [{"targets": ["plugin-crm.plexica.svc.cluster.local:3100"]}],
                "metrics_path": "/metrics",
                "scrape_interval": "15s",
            },
        ]
    }


def test_scrape_config_follows_metrics_path_and_namespace() -> None:
    m = manifest(deployment={"metricsPath": "/internal/metrics"})
    obj = scrape_config([m], _base_config(namespace="plugins"))
    (job,) = yaml.safe_load(obj["data"]["plugins.yml"])["scrape_configs"]
    assert job["metrics_path"] == "/internal/metrics"
    assert job["static_configs"] == [{"targets": ["plugin-crm.plugins.svc.cluster.local:3100"]}]


def test_without_the_operator_one_configmap_and_no_custom_resources() -> None:
    manifests = [plugin.manifest for plugin in shipped_plugins()]
    stack = prod_stack()
    assert platform_objects(manifests, stack).scrape_config is not None
    for m in manifests:
        objects = plugin_objects(m, stack)
        assert objects.service_monitor is None
        assert objects.prometheus_rule is None


def test_with_the_operator_custom_resources_and_no_configmap() -> None:
    manifests = [plugin.manifest for plugin in shipped_plugins()]
    stack = prod_stack(prometheusOperator=True)
    assert platform_objects(manifests, stack).scrape_config is None
    for m in manifests:
        objects = plugin_objects(m, stack)
        assert objects.service_monitor is not None
        assert objects.prometheus_rule is not None


def test_service_monitor() -> None:
    stack = prod_stack(prometheusOperator=True, monitoringLabels={"release": "kube-prometheus-stack"})
    obj = service_monitor(shipped("analytics"), stack)
    assert obj["apiVersion"] == "monitoring.coreos.com/v1"
    assert obj["kind"] == "ServiceMonitor"
    assert obj["metadata"]["name"] == "plugin-analytics"
    assert obj["metadata"]["namespace"] == "plexica"
    assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert obj["metadata"]["labels"]["plugin"] == "analytics"
    assert obj["spec"] == {
        "selector": {"matchLabels": {"app": "plexica", "component": "plugin", "plugin": "analytics"}},
        "namespaceSelector": {"matchNames": ["plexica"]},
        "endpoints": [{"port": "http", "path": "/metrics", "interval": "15s", "scheme": "http"}],
    }


def test_prometheus_rule_alerts() -> None:
    obj = prometheus_rule(shipped("crm"), prod_stack(prometheusOperator=True))
    assert obj["apiVersion"] == "monitoring.coreos.com/v1"
    assert obj["kind"] == "PrometheusRule"
    assert obj["metadata"]["name"] == "plugin-crm-alerts"
    (group,) = obj["spec"]["groups"]
    assert group["name"] == "plugin-crm"
    rules = {rule["alert"]: rule for rule in group["rules"]}
    assert list(rules) == ["PluginNotReady", "PluginHighCpu", "PluginHighMemory", "PluginHigh5xxRate"]
    selector = 'namespace="plexica", container="plugin-crm"'
    assert rules["PluginNotReady"]["expr"] == f"max by (pod) (kube_pod_container_status_ready{{{selector}}}) == 0"
    # crm's limits: 500m CPU, 512Mi memory.
    assert rules["PluginHighCpu"]["expr"] == (
        f"sum by (pod) (rate(container_cpu_usage_seconds_total{{{selector}}}[5m])) / 0.5 > 0.8"
    )
    assert rules["PluginHighMemory"]["expr"] == (
        f"max by (pod) (container_memory_working_set_bytes{{{selector}}}) / 536870912 > 0.85"
    )
    job = 'namespace="plexica", job="plugin-crm"'
    assert rules["PluginHigh5xxRate"]["expr"] == (
        f'sum(rate(http_requests_total{{{job}, status_code=~"5.."}}[5m])) '
        f"/ sum(rate(http_requests_total{{{job}}}[5m])) > 0.05"
    )
    for rule in rules.values():
        assert rule["for"] == "5m"
        assert rule["labels"]["plugin"] == "crm"
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert "crm" in rule["annotations"]["summary"]


def test_alert_thresholds_follow_the_manifest_limits() -> None:
    obj = prometheus_rule(shipped("analytics"), prod_stack(prometheusOperator=True))
    rules = {rule["alert"]: rule["expr"] for rule in obj["spec"]["groups"][0]["rules"]}
    assert "/ 1 > 0.8" in rules["PluginHighCpu"]
    assert f"/ {1024**3} > 0.85" in rules["PluginHighMemory"]
