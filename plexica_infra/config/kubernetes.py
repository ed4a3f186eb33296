"""Stack settings for the Kubernetes target (`plexica:kubernetes`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from plexica_infra._validators import unsafe_character

__all__ = ["KubernetesSettings", "PeerSettings", "PodSecurityLevel"]

PodSecurityLevel = Literal["privileged", "baseline", "restricted"]


def _selector(value: dict[str, str]) -> dict[str, str]:
    if not value:
        raise ValueError(
            "is empty, and an empty selector matches every pod or namespace, which would silently widen the "
            'NetworkPolicy; name at least one label, e.g. {"app": "postgres"}'
        )
    for key, text in value.items():
        if not key or len(key) > 317 or len(text) > 63 or any(unsafe_character(t) for t in (key, text)):
            raise ValueError(f"label {key!r} is not a Kubernetes label (key up to 317, value up to 63 characters)")
    return value


#: Label selector (`matchLabels`): never empty, because `{}` selects everything.
Selector = Annotated[dict[str, str], AfterValidator(_selector), Field(max_length=16)]


class PeerSettings(BaseModel):
    """A platform service plugins talk to: how NetworkPolicy selects it, and on which port."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    selector: Selector = Field(description="Pod labels of the peer (never empty).")
    namespace_selector: Selector | None = Field(
        None,
        alias="namespaceSelector",
        description="Namespace labels of the peer when it runs outside the plugins' namespace. Default: "
        "none, the peer runs in the same namespace (the guide's layout).",
    )
    port: int = Field(ge=1, le=65535)
    protocol: Literal["TCP", "UDP"] = Field("TCP", description="Default TCP.")


class KubernetesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    create_namespace: bool = Field(
        True, alias="createNamespace", description="Create the namespace (false: adopt an existing one)."
    )
    pod_security_enforce: PodSecurityLevel = Field(
        "baseline",
        alias="podSecurityEnforce",
        description="Pod Security Admission level enforced on a namespace this stack creates; 'restricted' "
        "is always warned about and audited. Default baseline: the namespace also holds the platform's own "
        "services (the guide's core-api, postgres, redis), which restricted could reject; plugin pods "
        "meet restricted.",
    )
    kubeconfig_context: str | None = Field(None, alias="context", description="kubeconfig context to use.")
    kubeconfig: str | None = Field(
        None,
        description="Path of the kubeconfig file (relative paths are from the project directory). Default: "
        "none, the provider's own default ($KUBECONFIG, then ~/.kube/config).",
    )
    registry_endpoints: Literal["service-dns", "cluster-ip"] = Field(
        "service-dns",
        alias="registryEndpoints",
        description="How the Core API reaches plugins: 'service-dns' (http://plugin-<id>.<ns>.svc.cluster.local, "
        "for a Core API inside the cluster, the guide's layout) or 'cluster-ip' (http://<ClusterIP>, for a Core "
        "API on a node that routes Service IPs but has no cluster DNS, like the local `kube` stack).",
    )
    rollback: bool = Field(
        True,
        description="Watch each Deployment's rollout and, when it fails (readiness never passes within "
        "progressDeadlineSeconds, or pods crash), restore the last good template and fail the update before the "
        "Core API hears of the new version. Default true. Off: Pulumi's own await, which leaves a failed rollout "
        "half-done.",
    )
    render_yaml_to: str | None = Field(
        None,
        alias="renderYamlTo",
        description="Render manifests to this directory instead of applying them (cluster-less preview).",
    )
    render_secrets: bool = Field(
        False,
        alias="renderSecrets",
        description="With renderYamlTo, also render the shared Secrets. Default false: rendered files hold "
        "secret values in plaintext, so the Secrets are expected to come from the cluster's own secret "
        "pipeline instead.",
    )
    autoscaling: bool = Field(
        True,
        description="Allow HorizontalPodAutoscalers (a manifest can still opt out). Default true, the guide's "
        "HPA; false pins every plugin to its replicas.",
    )
    image_pull_secrets: list[str] = Field(
        default_factory=list,
        alias="imagePullSecrets",
        description="Existing docker-registry Secrets in the namespace used to pull plugin images. Default: "
        "none (public registry or node credentials).",
    )
    prometheus_operator: bool = Field(
        False,
        alias="prometheusOperator",
        description="The Prometheus Operator is installed: emit ServiceMonitor + PrometheusRule. Default false: "
        "emit one ConfigMap with the guide's scrape_configs.",
    )
    monitoring_labels: dict[str, str] = Field(
        default_factory=dict,
        alias="monitoringLabels",
        description="Extra labels on ServiceMonitors and PrometheusRules so the operator's selectors pick them "
        "up (kube-prometheus-stack: `release: <name>`). Default: none.",
    )
    prometheus_selector: Selector | None = Field(
        None,
        alias="prometheusSelector",
        description="Pod labels of Prometheus; when set, NetworkPolicy admits it on the metrics port.",
    )
    prometheus_namespace_selector: Selector | None = Field(
        None,
        alias="prometheusNamespaceSelector",
        description="Namespace labels of Prometheus when it runs in another namespace (e.g. monitoring). "
        "Default: none, Prometheus runs in the plugins' namespace.",
    )
    gateway_selector: Selector = Field(
        default_factory=lambda: {"component": "api-gateway"},
        alias="gatewaySelector",
        description="Pod labels of the API gateway, the only ingress source. Default: the guide's.",
    )
    dns_namespace_selector: Selector = Field(
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
        600,
        alias="progressDeadlineSeconds",
        ge=10,
        le=7200,
        description="Rollout deadline before Kubernetes marks failure, 10-7200 s (and, with rollback, the time "
        "without progress before the guard restores the previous template). Default 600, Kubernetes' own.",
    )

    @property
    def guards_rollouts(self) -> bool:
        """Rollouts are watched by our guard (which rolls back) rather than Pulumi's await."""
        return self.rollback and self.render_yaml_to is None
