"""Mutator-style tests: each mutation of a valid manifest, and the message it must produce.

Each mutator's docstring is the expected `<pointer>: <message fragment>`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plexica_infra.loader import load_plugins
from plexica_infra.manifest import PluginManifest
from tests.conftest import WritePlugins, shipped_manifest

Mutator = Callable[[dict[str, Any]], None]


def cpu_with_unknown_unit(m: dict[str, Any]) -> None:
    """/runtime/resources/cpu: invalid CPU quantity '500x'"""
    m["runtime"]["resources"]["cpu"] = "500x"


def zero_cpu(m: dict[str, Any]) -> None:
    """/runtime/resources/cpu: must be greater than 0"""
    m["runtime"]["resources"]["cpu"] = "0"


def negative_cpu(m: dict[str, Any]) -> None:
    """/runtime/resources/cpu: invalid CPU quantity '-1'"""
    m["runtime"]["resources"]["cpu"] = "-1"


def too_precise_cpu(m: dict[str, Any]) -> None:
    """/runtime/resources/cpu: at most 3 decimals"""
    m["runtime"]["resources"]["cpu"] = "0.0005"


def too_many_cores(m: dict[str, Any]) -> None:
    """/runtime/resources/cpu: exceeds the maximum of 64 cores"""
    m["runtime"]["resources"]["cpu"] = "65"


def memory_unknown_unit(m: dict[str, Any]) -> None:
    """/runtime/resources/memory: invalid memory quantity '1.5Qi'"""
    m["runtime"]["resources"]["memory"] = "1.5Qi"


def memory_too_large(m: dict[str, Any]) -> None:
    """/runtime/resources/memory: exceeds the maximum of 256Gi"""
    m["runtime"]["resources"]["memory"] = "300Gi"


def request_above_limit(m: dict[str, Any]) -> None:
    """/runtime/resources/requests/cpu: above the CPU limit"""
    m["runtime"]["resources"]["requests"] = {"cpu": "1"}


def typo_in_runtime(m: dict[str, Any]) -> None:
    """/runtime/imag: unknown key 'imag'; did you mean 'image'?"""
    m["runtime"]["imag"] = m["runtime"]["image"]


def typo_in_api(m: dict[str, Any]) -> None:
    """/api/healthcheck: unknown key 'healthcheck'; did you mean 'healthCheck'?"""
    m["api"]["healthcheck"] = "/health"


def typo_in_deployment(m: dict[str, Any]) -> None:
    """/deployment/replica: unknown key 'replica'; did you mean 'replicas'?"""
    m.setdefault("deployment", {})["replica"] = 2


def unknown_runtime_type(m: dict[str, Any]) -> None:
    """/runtime/type: Input should be 'typescript' or 'node'; found "python\""""
    m["runtime"]["type"] = "python"


def untagged_image(m: dict[str, Any]) -> None:
    """/runtime/image: has no tag or digest"""
    m["runtime"]["image"] = "registry.plexica.io/plugins/crm"


def uppercase_image(m: dict[str, Any]) -> None:
    """/runtime/image: is not an image reference"""
    m["runtime"]["image"] = "Registry/CRM:1.0.0"


def wrong_base_path(m: dict[str, Any]) -> None:
    """/api/basePath: it must be '/api/plugins/crm'"""
    m["api"]["basePath"] = "/api/crm"


def relative_health_path(m: dict[str, Any]) -> None:
    """/api/liveness: must start with '/'; did you mean '/health/live'?"""
    m["api"]["liveness"] = "health/live"


def bad_version(m: dict[str, Any]) -> None:
    """/version: is not a semantic version"""
    m["version"] = "1.2"


def bad_id(m: dict[str, Any]) -> None:
    """/id: is not a DNS-1123 label"""
    m["id"] = "CRM_Plugin"


def long_id(m: dict[str, Any]) -> None:
    """/id: at most 40 lowercase letters"""
    m["id"] = "c" * 41


def privileged_port(m: dict[str, Any]) -> None:
    """/deployment/port: Input should be greater than or equal to 1024; found 80"""
    m["deployment"]["port"] = 80


def reserved_env(m: dict[str, Any]) -> None:
    """/deployment/env/JWT_SECRET: which the platform sets itself"""
    m["deployment"]["env"] = {"JWT_SECRET": "oops"}


def bad_env_name(m: dict[str, Any]) -> None:
    """/deployment/env/my-var: is not an environment variable name"""
    m["deployment"]["env"] = {"my-var": "1"}


def autoscaling_min_above_max(m: dict[str, Any]) -> None:
    """/deployment/autoscaling/minReplicas: must not exceed maxReplicas"""
    m["deployment"]["autoscaling"] = {"minReplicas": 5, "maxReplicas": 3}


def egress_host_name(m: dict[str, Any]) -> None:
    """/deployment/egress/0/to: not host names"""
    m["deployment"]["egress"] = [{"to": "api.example.com", "ports": [443]}]


def self_dependency(m: dict[str, Any]) -> None:
    """/deployment/dependencies: cannot depend on itself"""
    m["deployment"]["dependencies"] = ["crm"]


def name_wrong_type(m: dict[str, Any]) -> None:
    """/name: Input should be a valid string; found 42"""
    m["name"] = 42


MUTATORS: list[Mutator] = [
    cpu_with_unknown_unit, zero_cpu, negative_cpu, too_precise_cpu, too_many_cores,
    memory_unknown_unit, memory_too_large, request_above_limit, typo_in_runtime, typo_in_api,
    typo_in_deployment, unknown_runtime_type, untagged_image,
    uppercase_image, wrong_base_path, relative_health_path, bad_version, bad_id, long_id,
    privileged_port, reserved_env, bad_env_name, autoscaling_min_above_max, egress_host_name,
    self_dependency, name_wrong_type,
]  # fmt: skip


@pytest.mark.parametrize("mutate", MUTATORS, ids=lambda f: f.__name__)
def test_mutation_reports_pointer_and_message(mutate: Mutator, write_plugins: WritePlugins) -> None:
    manifest = shipped_manifest("crm")
    mutate(manifest)
    plugins_dir = write_plugins({"crm": manifest})
    result = load_plugins(plugins_dir)
    pointer, _, fragment = (mutate.__doc__ or "").partition(": ")
    rendered = [str(p) for p in result.problems]
    assert any(
        p.file.endswith("crm/plugin.json") and p.pointer == pointer and fragment in p.message for p in result.problems
    ), rendered


def test_unknown_top_level_sections_pass_through_to_the_core_api() -> None:
    manifest = shipped_manifest("crm")
    manifest["permissions"] = ["contacts:read"]
    manifest["events"] = {"publishes": ["crm.deal.won"]}
    model = PluginManifest.model_validate(manifest)
    document = model.registration_document()
    assert document["permissions"] == ["contacts:read"]
    assert document["events"] == {"publishes": ["crm.deal.won"]}
    assert document["api"]["basePath"] == "/api/plugins/crm"


def test_probe_paths_default_from_health_check() -> None:
    manifest = shipped_manifest("crm")
    del manifest["api"]["readiness"], manifest["api"]["liveness"]
    api = PluginManifest.model_validate(manifest).api
    assert (api.readiness_path, api.liveness_path) == ("/health/ready", "/health/live")


def test_requests_default_to_half_the_limits() -> None:
    resources = PluginManifest.model_validate(shipped_manifest("crm")).runtime.resources
    assert resources.cpu_request_millicores == 250
    assert resources.memory_request_bytes == 256 * 1024**2


def test_every_problem_in_every_manifest_is_reported_in_one_run(write_plugins: WritePlugins) -> None:
    crm, analytics = shipped_manifest("crm"), shipped_manifest("analytics")
    crm["runtime"]["resources"]["cpu"] = "500x"
    crm["version"] = "one"
    analytics["api"]["basePath"] = "/nope"
    result = load_plugins(write_plugins({"crm": crm, "analytics": analytics}))
    pointers = {(Path(p.file).parent.name, p.pointer) for p in result.problems}
    assert pointers >= {
        ("crm", "/runtime/resources/cpu"),
        ("crm", "/version"),
        ("analytics", "/api/basePath"),
    }


def test_egress_accepts_well_known_destination_ports_and_normalises_hosts() -> None:
    manifest = shipped_manifest("crm")
    manifest["deployment"]["egress"] = [{"to": "203.0.113.10", "ports": [443]}]
    [rule] = PluginManifest.model_validate(manifest).deployment.egress
    assert (rule.to, rule.ports, rule.protocol) == ("203.0.113.10/32", [443], "TCP")


def test_default_requests_never_fall_below_what_docker_accepts() -> None:
    manifest = shipped_manifest("crm")
    manifest["runtime"]["resources"] = {"cpu": "15m", "memory": "8Mi"}
    resources = PluginManifest.model_validate(manifest).runtime.resources
    assert resources.cpu_request_millicores == 10
    assert resources.memory_request_bytes == 6 * 1024**2
