"""Health gate settings (`plexica:health`): the p95 budgets, deadline and sampling of the gate."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["HealthSettings"]


class HealthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    live_budget_ms: int = Field(
        100,
        alias="liveBudgetMs",
        ge=1,
        le=60_000,
        description="p95 budget for /health/live, 1-60000 ms. Default 100 ms (the guide).",
    )
    ready_budget_ms: int = Field(
        200,
        alias="readyBudgetMs",
        ge=1,
        le=60_000,
        description="p95 budget for /health/ready, 1-60000 ms. Default 200 ms (the guide).",
    )
    deadline_seconds: int = Field(
        180, alias="deadlineSeconds", ge=5, le=3600, description="Health gate deadline. Default 180 s."
    )
    start_period_seconds: int = Field(
        40,
        alias="startPeriodSeconds",
        ge=0,
        le=3600,
        description="Grace period before failures count, 0-3600 s. Default 40 s.",
    )
    failure_threshold: int = Field(
        3,
        alias="failureThreshold",
        ge=1,
        le=100,
        description="Consecutive failures that fail the gate, 1-100. Default 3.",
    )
    latency_samples: int = Field(
        20,
        alias="latencySamples",
        ge=5,
        le=500,
        description="Probes timed per endpoint for the p95. Default 20: with fewer, p95 is the single slowest "
        "probe and one scheduling hiccup on a busy host would fail a healthy rollout.",
    )
