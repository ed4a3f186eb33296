"""`HealthGate`: wait until every instance of a plugin is live, ready and fast enough.

The run itself is `_health_probe`; the inputs and their defaults are
`HealthGateInputs`, whose budgets default to the stack's (`HealthSettings`).

The gate has no state of its own: `read` returns what it recorded, `delete`
does nothing, and any input change (bump `revision` to force one) runs it again.
"""

from __future__ import annotations

import uuid
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from plexica_infra.providers._base import ProviderBase, ProviderResource
from plexica_infra.providers._health_probe import run_health_gate
from plexica_infra.providers._inputs import HealthGateInputs

__all__ = [
    "HEALTH_GATE_DEADLINE_SECONDS",
    "HEALTH_GATE_FAILURE_THRESHOLD",
    "HEALTH_GATE_START_PERIOD_SECONDS",
    "LATENCY_SAMPLES",
    "LIVE_P95_BUDGET_MS",
    "READY_P95_BUDGET_MS",
    "HealthGate",
    "HealthGateProvider",
]

# The gate's defaults, named: each is the stack's (`plexica_infra.config.HealthSettings`).
_FIELDS = HealthGateInputs.model_fields
HEALTH_GATE_DEADLINE_SECONDS: float = _FIELDS["deadline_seconds"].default
HEALTH_GATE_START_PERIOD_SECONDS: float = _FIELDS["start_period_seconds"].default
HEALTH_GATE_FAILURE_THRESHOLD: int = _FIELDS["failure_threshold"].default
LIVE_P95_BUDGET_MS: float = _FIELDS["live_p95_budget_ms"].default
READY_P95_BUDGET_MS: float = _FIELDS["ready_p95_budget_ms"].default
LATENCY_SAMPLES: int = _FIELDS["latency_samples"].default


class HealthGateProvider(ProviderBase):
    """Dynamic provider behind `HealthGate` (usable directly in tests)."""

    INPUTS = HealthGateInputs

    def _gate(self, props: dict[str, Any]) -> dict[str, Any]:
        spec = HealthGateInputs.from_props(props, "health gate inputs")
        with self.guard(plugin_id=spec.plugin_id, step="health gate"):
            return {**spec.inputs(), **run_health_gate(spec)}

    def create(self, props: dict[str, Any]) -> CreateResult:
        outputs = self._gate(props)
        return CreateResult(f"{outputs['plugin_id']}-health-gate-{uuid.uuid4().hex[:8]}", outputs)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self._gate(_news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, self.inputs_to_outputs(props))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class HealthGate(ProviderResource, module="plexica", name="HealthGate"):
    """Passes once every instance of a plugin is live, ready and within its latency budgets.

    Inputs: the fields of `HealthGateInputs`. Make the resources that must wait for
    healthy instances (the service and plugin registrations) depend on it. Outputs echo
    the inputs, plus `instances` (per base URL: live/ready p50/p95 in ms), the worst
    `live_p50_ms`, `live_p95_ms`, `ready_p50_ms`, `ready_p95_ms` over all instances,
    `checked_at` and `duration_seconds`.
    """

    plugin_id: pulumi.Output[str]
    base_urls: pulumi.Output[list[str]]
    revision: pulumi.Output[str]
    instances: pulumi.Output[list[dict[str, Any]]]
    live_p50_ms: pulumi.Output[float]
    live_p95_ms: pulumi.Output[float]
    ready_p50_ms: pulumi.Output[float]
    ready_p95_ms: pulumi.Output[float]
    checked_at: pulumi.Output[str]
    duration_seconds: pulumi.Output[float]

    def __init__(self, resource_name: str, *, opts: pulumi.ResourceOptions | None = None, **inputs: Any) -> None:
        super().__init__(HealthGateProvider(), resource_name, inputs, opts)
