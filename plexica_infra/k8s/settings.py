"""Stack settings for the Kubernetes target (`plexica:kubernetes`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["KubernetesSettings", "PeerSettings"]


class PeerSettings(BaseModel):
    """A platform service plugins talk to: how NetworkPolicy selects it, and on which port."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    selector: dict[str, str] = Field(description="Pod labels of the peer.")
    port: int = Field(ge=1, le=65535)
    protocol: str = "TCP"


class KubernetesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    create_namespace: bool = Field(
        True, alias="createNamespace", description="Create the namespace (false: adopt an existing one)."
    )
    kubeconfig_context: str | None = Field(None, alias="context", description="kubeconfig context to use.")
    render_yaml_to: str | None = Field(
        None,
        alias="renderYamlTo",
        description="Render manifests to this directory instead of applying them (cluster-less preview).",
    )
    prometheus_operator: bool = Field(
        False,
        alias="prometheusOperator",
        description="The Prometheus Operator is installed: emit ServiceMonitor + PrometheusRule. Default false: "
        "emit one ConfigMap with the guide's scrape_configs.",
    )
    prometheus_selector: dict[str, str] | None = Field(
        None,
        alias="prometheusSelector",
        description="Pod labels of Prometheus; when set, NetworkPolicy admits it on the metrics port.",
    )
    gateway_selector: dict[str, str] = Field(
        default_factory=lambda: {"component": "api-gateway"},
        alias="gatewaySelector",
        description="Pod labels of the API gateway, the only ingress source. Default: the guide's.",
    )
    dns_namespace_selector: dict[str, str] = Field(
        default_factory=lambda: {"kubernetes.io/metadata.name": "kube-system"},
        alias="dnsNamespaceSelector",
        description="Namespace labels of cluster DNS. Default: kube-system by its automatic name label (the "
        "guide's `name: kube-system` label is not set by Kubernetes itself).",
    )
    postgres: PeerSettings = Field(default_factory=lambda: PeerSettings(selector={"app": "postgres"}, port=5432))
    redis: PeerSettings = Field(default_factory=lambda: PeerSettings(selector={"app": "redis"}, port=6379))
    core_api: PeerSettings = Field(
        default_factory=lambda: PeerSettings(selector={"component": "core-api"}, port=3000), alias="coreApi"
    )
    redpanda: PeerSettings = Field(default_factory=lambda: PeerSettings(selector={"app": "redpanda"}, port=29092))
    progress_deadline_seconds: int = Field(
        600, alias="progressDeadlineSeconds", ge=60, description="Rollout deadline before Kubernetes marks failure."
    )
