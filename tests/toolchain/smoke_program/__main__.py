"""One Docker and one Kubernetes resource, for a cluster-less, daemon-less preview."""

import os

import pulumi
import pulumi_docker as docker
import pulumi_kubernetes as k8s

network = docker.Network("smoke-network", name="plexica-toolchain-smoke", driver="bridge")

# Rendering to YAML needs no cluster; during a preview nothing is written.
render = k8s.Provider(
    "smoke-render",
    render_yaml_to_directory=os.environ.get("SMOKE_RENDER_DIR", "rendered"),
)
config_map = k8s.core.v1.ConfigMap(
    "smoke-config",
    metadata=k8s.meta.v1.ObjectMetaArgs(name="toolchain-smoke"),
    data={"network": network.name},
    opts=pulumi.ResourceOptions(provider=render),
)

pulumi.export("network_name", network.name)
