"""Targets behind one protocol: what each hands the Core API side, which one a stack gets,
and a `__main__.py` that never branches on the target."""

from __future__ import annotations

import ast
from typing import Any

import pulumi

from tests.k8s._mocks import run_program as run_k8s_program  # sets mocks before the SDK's resources load

from tests.conftest import REPO  # isort: skip
from tests.docker.conftest import CONTAINER, _base_config, make_secrets, run_program, shipped_plugins  # isort: skip
from tests.k8s._support import SECRET_VALUES, prod_stack  # isort: skip
from tests.k8s._support import shipped_plugins as k8s_plugins  # isort: skip

from plexica_infra.config import StackSecrets  # isort: skip
from plexica_infra.target import DockerTarget, KubernetesTarget, PluginEndpoints, target_for  # isort: skip


def _endpoint_outputs(endpoints: dict[str, PluginEndpoints]) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    for pid, found in endpoints.items():
        outputs[f"{pid}.gate"] = found.gate
        outputs[f"{pid}.gate_urls"] = found.gate_urls
        outputs[f"{pid}.registry_urls"] = found.registry_urls
        outputs[f"{pid}.revision"] = found.revision
        outputs[f"{pid}.target"] = type(found.target).__name__
    return outputs


def test_docker_target_gates_on_host_ports_and_registers_container_names() -> None:
    stack = _base_config("dev")
    recorded = run_program(lambda: _endpoint_outputs(DockerTarget().deploy(shipped_plugins(), stack, make_secrets())))
    for pid in ("crm", "analytics"):
        container = recorded.named(CONTAINER, f"plexica-plugin-{pid}")
        (port,) = container.state["ports"]
        labels = {item["label"]: item["value"] for item in container.inputs["labels"]}
        (published,) = container.inputs["ports"]
        assert recorded.outputs[f"{pid}.gate"] is True
        assert recorded.outputs[f"{pid}.gate_urls"] == [f"http://127.0.0.1:{int(port['external'])}"]
        # dev's Core API runs in a container on the plugin network: it reaches the containers by name.
        assert recorded.outputs[f"{pid}.registry_urls"] == [
            f"http://{container.state['name']}:{int(published['internal'])}"
        ]
        assert recorded.outputs[f"{pid}.revision"] == labels["plexica.revision"]
        assert recorded.outputs[f"{pid}.target"] == "DockerPlugin"


def test_docker_target_registers_host_ports_when_the_core_api_runs_on_the_host() -> None:
    stack = _base_config("dev", docker={"registryEndpoints": "host"})
    recorded = run_program(lambda: _endpoint_outputs(DockerTarget().deploy(shipped_plugins(), stack, make_secrets())))
    assert recorded.outputs["crm.registry_urls"] == recorded.outputs["crm.gate_urls"]
    assert recorded.outputs["crm.gate_urls"][0].startswith("http://127.0.0.1:")


def test_kubernetes_target_leaves_the_gate_to_the_rollout_and_registers_service_dns() -> None:
    secrets = StackSecrets(**{key: pulumi.Output.secret(value) for key, value in SECRET_VALUES.items()})
    run = run_k8s_program(lambda: _endpoint_outputs(KubernetesTarget().deploy(k8s_plugins(), prod_stack(), secrets)))
    assert run.outputs == {
        "crm.gate": False,
        "crm.gate_urls": ["http://plugin-crm.plexica.svc.cluster.local:3100"],
        "crm.registry_urls": ["http://plugin-crm.plexica.svc.cluster.local:3100"],
        "crm.revision": None,
        "crm.target": "KubernetesPlugin",
        "analytics.gate": False,
        "analytics.gate_urls": ["http://plugin-analytics.plexica.svc.cluster.local:3200"],
        "analytics.registry_urls": ["http://plugin-analytics.plexica.svc.cluster.local:3200"],
        "analytics.revision": None,
        "analytics.target": "KubernetesPlugin",
    }


def test_target_for_follows_the_stack_target() -> None:
    assert isinstance(target_for(_base_config("dev")), DockerTarget)
    assert isinstance(target_for(_base_config("local")), DockerTarget)
    assert isinstance(target_for(prod_stack()), KubernetesTarget)


def test_main_has_no_target_branch() -> None:
    """`__main__.py` asks `target_for` and never looks at the target itself."""
    tree = ast.parse((REPO / "__main__.py").read_text(encoding="utf-8"))
    attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "target" not in attributes
    assert not strings & {"docker", "kubernetes"}
    assert not {m for m in modules if m and m.startswith(("plexica_infra.docker", "plexica_infra.k8s"))}
    assert "target_for" in {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
