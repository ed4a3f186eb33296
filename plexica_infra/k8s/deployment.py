"""The plugin Deployment: the guide's "Kubernetes Deployment" manifest, hardened."""

from __future__ import annotations

import math

from plexica_infra.config import StackConfig
from plexica_infra.k8s.env import plugin_env
from plexica_infra.k8s.labels import plugin_labels, selector_labels
from plexica_infra.k8s.names import K8sObject, object_metadata, object_name
from plexica_infra.k8s.peers import NO_PEERS, PluginPeers
from plexica_infra.k8s.scaling import scale_plan
from plexica_infra.manifest import PluginManifest
from plexica_infra.placement import plugin_image
from plexica_infra.quantities import format_cpu, format_memory

__all__ = [
    "PRE_STOP_SLEEP_SECONDS",
    "ROLLOUT_GUARD_ANNOTATIONS",
    "RUN_AS_USER",
    "STARTUP_PROBE_PERIOD_SECONDS",
    "TERMINATION_GRACE_PERIOD_SECONDS",
    "TMP_SIZE_LIMIT",
    "deployment",
    "plugin_image",
]

#: The guide's Dockerfile user (`adduser -u 1001`); the reference image runs as 1001:1001.
RUN_AS_USER = 1001
#: The reference plugin drains in-flight requests for up to 25 s after SIGTERM; 5 s of
#: preStop pause plus 25 s of drain fit in the 30 s grace period.
TERMINATION_GRACE_PERIOD_SECONDS = 30
PRE_STOP_SLEEP_SECONDS = 5
STARTUP_PROBE_PERIOD_SECONDS = 5
#: On a Deployment whose rollout plexica_infra.k8s.rollback guards.
ROLLOUT_GUARD_ANNOTATIONS = {"pulumi.com/skipAwait": "true", "pulumi.com/patchForce": "true"}
#: Bounded so that one plugin's scratch files cannot fill the node's disk.
TMP_SIZE_LIMIT = "256Mi"


def _http_get(path: str) -> K8sObject:
    return {"path": path, "port": "http"}


def _probes(manifest: PluginManifest, stack: StackConfig) -> K8sObject:
    api = manifest.api
    return {
        # The guide's timings.
        "livenessProbe": {
            "httpGet": _http_get(api.liveness_path),
            "initialDelaySeconds": 30,
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 3,
        },
        "readinessProbe": {
            "httpGet": _http_get(api.readiness_path),
            "initialDelaySeconds": 10,
            "periodSeconds": 5,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        # Startup probe so that slow migrations (which run before the plugin listens,
        # per the guide's FAQ) don't trip liveness: liveness only starts once this
        # passes, and it allows the stack's whole health deadline.
        "startupProbe": {
            "httpGet": _http_get(api.liveness_path),
            "periodSeconds": STARTUP_PROBE_PERIOD_SECONDS,
            "timeoutSeconds": 5,
            "failureThreshold": math.ceil(stack.health.deadline_seconds / STARTUP_PROBE_PERIOD_SECONDS),
        },
    }


def _resources(manifest: PluginManifest) -> K8sObject:
    resources = manifest.runtime.resources
    return {
        "requests": {
            "cpu": format_cpu(resources.cpu_request_millicores),
            "memory": format_memory(resources.memory_request_bytes),
        },
        "limits": {"cpu": format_cpu(resources.cpu_millicores), "memory": format_memory(resources.memory_bytes)},
    }


def _container(manifest: PluginManifest, stack: StackConfig, peers: PluginPeers) -> K8sObject:
    return {
        "name": object_name(manifest.id),
        "image": plugin_image(manifest, stack),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": manifest.deployment.port, "protocol": "TCP"}],
        "env": plugin_env(manifest, stack, peers),
        "resources": _resources(manifest),
        **_probes(manifest, stack),
        "lifecycle": {
            # Keep serving while kube-proxy and the gateway drop this pod's endpoint, so
            # no request lands on a closed socket. A `sleep` handler (Kubernetes >= 1.30),
            # not `exec: sleep`: plugin images need no shell or sleep binary (the
            # reference image holds only /plugin).
            "preStop": {"sleep": {"seconds": PRE_STOP_SLEEP_SECONDS}},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def _spread(manifest: PluginManifest) -> list[K8sObject]:
    return [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            # ScheduleAnyway: on a cluster with fewer nodes than replicas, pods still
            # start (packed) instead of staying Pending.
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector_labels(manifest)},
            # Count only pods of the same ReplicaSet, so a rollout spreads the new pods
            # instead of balancing them against the old ones.
            "matchLabelKeys": ["pod-template-hash"],
        }
    ]


def _pod_spec(manifest: PluginManifest, stack: StackConfig, peers: PluginPeers, spread: bool) -> K8sObject:
    settings = stack.kubernetes
    spec: K8sObject = {
        "serviceAccountName": object_name(manifest.id),
        # Plugins never call the Kubernetes API.
        "automountServiceAccountToken": False,
        # No `<SERVICE>_PORT` variables for every Service in the namespace.
        "enableServiceLinks": False,
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": TERMINATION_GRACE_PERIOD_SECONDS,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "fsGroup": RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(manifest, stack, peers)],
        # The root filesystem is read-only; /tmp is the only writable path.
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}],
    }
    if settings.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in settings.image_pull_secrets]
    if spread:
        spec["topologySpreadConstraints"] = _spread(manifest)
    return spec


def deployment(manifest: PluginManifest, stack: StackConfig, peers: PluginPeers = NO_PEERS) -> K8sObject:
    plan = scale_plan(manifest, stack)
    labels = plugin_labels(manifest)
    spec: K8sObject = {}
    if plan.replicas is not None:
        spec["replicas"] = plan.replicas
    spec |= {
        "selector": {"matchLabels": selector_labels(manifest)},
        # Never below the current capacity during a rollout: one extra pod at a time.
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "progressDeadlineSeconds": stack.kubernetes.progress_deadline_seconds,
        "template": {
            "metadata": {"labels": labels},
            "spec": _pod_spec(manifest, stack, peers, spread=plan.may_run_several),
        },
    }
    metadata = object_metadata(object_name(manifest.id), stack.namespace, labels)
    if stack.kubernetes.guards_rollouts:
        # plexica_infra.k8s.rollback watches the rollout (and rolls back) instead of
        # Pulumi's await; force our apply over the guard's restore on the next run.
        metadata["annotations"] = {**metadata.get("annotations", {}), **ROLLOUT_GUARD_ANNOTATIONS}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}
