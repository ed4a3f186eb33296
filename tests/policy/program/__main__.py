"""A program that breaks every rule of the policy pack once, next to objects that keep them.

Previewed by tests/policy/test_policy_pack.py with the real engine, our Docker provider
(no engine needed for a preview) and the Kubernetes provider rendering YAML (no cluster).
Names say which side a resource is on: `bad-*` must be reported, `good-*` never.
"""

import os

import pulumi
import pulumi_docker as docker
import pulumi_kubernetes as k8s

DIGEST = "sha256:" + "ab" * 32
GOOD_IMAGE = f"registry.plexica.io/plugins/good:1.0.0@{DIGEST}"

# -- Docker ----------------------------------------------------------------------------
docker.Container(
    "good-container",
    image=GOOD_IMAGE,
    envs=pulumi.Output.secret(["DATABASE_URL=postgresql://plexica:pw@postgres:5432/plexica", "LOG_LEVEL=info"]),
    ports=[docker.ContainerPortArgs(internal=3100, ip="127.0.0.1")],
    cpus="0.5",
    memory=512,
    memory_reservation=256,
    user="1001:1001",
    read_only=True,
    security_opts=["no-new-privileges:true"],
    capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"]),
    healthcheck=docker.ContainerHealthcheckArgs(tests=["CMD", "/plugin", "healthcheck", "http://127.0.0.1:3100/live"]),
    opts=pulumi.ResourceOptions(additional_secret_outputs=["envs"]),
)
docker.Container(
    "bad-container",
    image="registry.plexica.io/plugins/bad:LATEST",
    envs=["DATABASE_URL=postgresql://plexica:pw@postgres:5432/plexica", "LOG_LEVEL=info"],
    ports=[docker.ContainerPortArgs(internal=3100)],
    user="root",
)
docker.Container(
    "bad-greedy-container",
    image=GOOD_IMAGE,
    cpus="2",
    memory=4096,
    memory_reservation=256,
    user="1001",
    read_only=True,
    security_opts=["no-new-privileges:true"],
    capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"]),
    ports=[docker.ContainerPortArgs(internal=3100, ip="0.0.0.0")],
    healthcheck=docker.ContainerHealthcheckArgs(tests=["CMD", "/plugin", "healthcheck", "http://127.0.0.1:3100/live"]),
)

# -- Kubernetes (rendered, never applied) -----------------------------------------------
render = k8s.Provider("render", render_yaml_to_directory=os.environ["POLICY_TEST_RENDER_DIR"])
opts = pulumi.ResourceOptions(provider=render)


def labels(plugin: str) -> dict[str, str]:
    return {"app": "plexica", "component": "plugin", "plugin": plugin}


def probe(path: str) -> dict[str, object]:
    return {"httpGet": {"path": path, "port": 3100}}


k8s.apps.v1.Deployment(
    "good-deployment",
    metadata={"name": "plugin-good", "namespace": "plexica"},
    spec={
        "selector": {"matchLabels": labels("good")},
        "template": {
            "metadata": {"labels": labels("good")},
            "spec": {
                "securityContext": {"runAsNonRoot": True, "runAsUser": 1001},
                "containers": [
                    {
                        "name": "plugin-good",
                        "image": GOOD_IMAGE,
                        "env": [
                            {"name": "LOG_LEVEL", "value": "info"},
                            {
                                "name": "DATABASE_URL",
                                "valueFrom": {"secretKeyRef": {"name": "plexica-database", "key": "url"}},
                            },
                        ],
                        "resources": {
                            "requests": {"cpu": "250m", "memory": "256Mi"},
                            "limits": {"cpu": "500m", "memory": "512Mi"},
                        },
                        "readinessProbe": probe("/health/ready"),
                        "livenessProbe": probe("/health/live"),
                        "securityContext": {
                            "readOnlyRootFilesystem": True,
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
            },
        },
    },
    opts=opts,
)
k8s.networking.v1.NetworkPolicy(
    "good-network-policy",
    metadata={"name": "plugin-good-network-policy", "namespace": "plexica"},
    spec={"podSelector": {"matchLabels": labels("good")}, "policyTypes": ["Ingress"]},
    opts=opts,
)
k8s.policy.v1.PodDisruptionBudget(
    "good-pdb",
    metadata={"name": "plugin-good-pdb", "namespace": "plexica"},
    spec={"selector": {"matchLabels": labels("good")}, "maxUnavailable": 1},
    opts=opts,
)
k8s.autoscaling.v2.HorizontalPodAutoscaler(
    "good-hpa",
    metadata={"name": "plugin-good-hpa", "namespace": "plexica"},
    spec={
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "plugin-good"},
        "minReplicas": 2,
        "maxReplicas": 4,
    },
    opts=opts,
)
k8s.core.v1.Secret(
    "good-secret",
    metadata={"name": "plexica-database", "namespace": "plexica"},
    string_data={"url": pulumi.Output.secret("postgresql://plexica:pw@postgres:5432/plexica")},
    opts=opts,
)

k8s.apps.v1.Deployment(
    "bad-deployment",
    metadata={"name": "plugin-bad", "namespace": "plexica"},
    spec={
        "replicas": 3,
        "selector": {"matchLabels": labels("bad")},
        "template": {
            "metadata": {"labels": labels("bad")},
            "spec": {
                "containers": [
                    {
                        "name": "plugin-bad",
                        "image": "registry.plexica.io/plugins/bad",
                        "env": [{"name": "JWT_SECRET", "value": "not-a-secret-at-all"}],
                        "securityContext": {"runAsUser": 0},
                    }
                ],
            },
        },
    },
    opts=opts,
)
k8s.autoscaling.v2.HorizontalPodAutoscaler(
    "bad-hpa",
    metadata={"name": "plugin-bad-hpa", "namespace": "plexica"},
    spec={
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "plugin-bad"},
        "minReplicas": 1,
        "maxReplicas": 4,
    },
    opts=opts,
)
k8s.core.v1.Secret(
    "bad-secret",
    metadata={"name": "plexica-bad", "namespace": "plexica"},
    string_data={"url": "postgresql://plexica:pw@postgres:5432/plexica"},
    opts=opts,
)
