"""The Core API's own health check of a plugin's registered endpoints.

Install and the hot-swap update call this before they move a plugin on: every
registered endpoint must answer 200 on its liveness path and then on its
readiness path (the guide's Deployment Flow: GET /health/live, GET /health/ready).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from plexica_infra.contract import DEFAULT_LIVENESS_PATH, DEFAULT_READINESS_PATH

__all__ = [
    "DEFAULT_LIVENESS_PATH",
    "DEFAULT_READINESS_PATH",
    "HEALTH_PROBE_ATTEMPTS",
    "HEALTH_PROBE_INTERVAL_SECONDS",
    "HEALTH_PROBE_TIMEOUT_SECONDS",
    "ProbeOutcome",
    "check_endpoints",
    "probe_paths",
]

#: Per probe request; the guide's Kubernetes probes use 5 s (liveness) and 3 s (readiness).
HEALTH_PROBE_TIMEOUT_SECONDS = 5.0
#: "Health checks fail after 3 retries" (guide, Rollback on Failure).
HEALTH_PROBE_ATTEMPTS = 3
HEALTH_PROBE_INTERVAL_SECONDS = 0.2
_BODY_EXCERPT_CHARS = 300


def probe_paths(manifest: Mapping[str, Any]) -> tuple[str, str]:
    """(liveness, readiness) paths: the manifest's `api.liveness` / `api.readiness`.

    Without them, `api.healthCheck` + '/live' and '/ready' (as the manifest model
    derives them), else /health/live and /health/ready.
    """
    api = manifest.get("api")
    api = api if isinstance(api, Mapping) else {}
    health = api.get("healthCheck")
    base = health.rstrip("/") if isinstance(health, str) and health.startswith("/") else "/health"
    live = api.get("liveness")
    ready = api.get("readiness")
    return (
        live if isinstance(live, str) and live.startswith("/") else f"{base}/live",
        ready if isinstance(ready, str) and ready.startswith("/") else f"{base}/ready",
    )


@dataclass(frozen=True)
class ProbeOutcome:
    endpoint: str
    probe: str
    url: str
    status: int | None
    body: str
    error: str | None
    elapsed_ms: float
    attempts: int

    @property
    def ok(self) -> bool:
        return self.status == 200

    def describe(self) -> str:
        if self.error is not None:
            return f"{self.url} did not answer ({self.error}) after {self.attempts} attempt(s)"
        return f"{self.url} answered {self.status}: {self.body or '<empty body>'}"

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "probe": self.probe,
            "url": self.url,
            "status": self.status,
            "body": self.body,
            "error": self.error,
            "elapsedMs": round(self.elapsed_ms, 1),
            "attempts": self.attempts,
        }


async def _probe(client: httpx.AsyncClient, endpoint: str, probe: str, path: str) -> ProbeOutcome:
    url = endpoint.rstrip("/") + path
    outcome: ProbeOutcome | None = None
    for attempt in range(1, HEALTH_PROBE_ATTEMPTS + 1):
        started = time.perf_counter()
        try:
            response = await client.get(url, timeout=HEALTH_PROBE_TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            outcome = ProbeOutcome(
                endpoint,
                probe,
                url,
                None,
                "",
                f"{type(exc).__name__}: {exc}".rstrip(": "),
                (time.perf_counter() - started) * 1000,
                attempt,
            )
        else:
            outcome = ProbeOutcome(
                endpoint,
                probe,
                url,
                response.status_code,
                response.text[:_BODY_EXCERPT_CHARS].strip(),
                None,
                (time.perf_counter() - started) * 1000,
                attempt,
            )
            if outcome.ok:
                return outcome
        if attempt < HEALTH_PROBE_ATTEMPTS:
            await asyncio.sleep(HEALTH_PROBE_INTERVAL_SECONDS)
    assert outcome is not None
    return outcome


async def _check_endpoint(
    client: httpx.AsyncClient, endpoint: str, live_path: str, ready_path: str
) -> list[ProbeOutcome]:
    live = await _probe(client, endpoint, "liveness", live_path)
    if not live.ok:
        return [live]
    return [live, await _probe(client, endpoint, "readiness", ready_path)]


async def check_endpoints(
    client: httpx.AsyncClient, endpoints: list[str], live_path: str, ready_path: str
) -> list[ProbeOutcome]:
    """Probe every endpoint (concurrently): liveness, then readiness once live."""
    results = await asyncio.gather(
        *(_check_endpoint(client, endpoint, live_path, ready_path) for endpoint in endpoints)
    )
    return [outcome for outcomes in results for outcome in outcomes]
