"""The health gate's run: probe every instance, live then ready, and time the answers.

For each base URL (one per container or pod), in turn: probe the liveness path
until it answers 200, then the readiness path until it answers 200. Between
failed probes the gate backs off (doubling, jittered, at most
`probe_interval_seconds`). A failure counts only once `start_period_seconds`
have passed since the gate began (the guide's Docker `start_period`); after
`failure_threshold` consecutive counted failures, or at `deadline_seconds`,
the gate fails with the last responses. Once a probe first answers 200, the
gate takes `latency_samples` more samples on a kept-alive connection and fails
when their p95 is over the budget (the guide: 100 ms live, 200 ms ready).
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from plexica_infra.providers._config import ssl_context, tls_verify
from plexica_infra.providers._exceptions import HealthGateError, LatencyBudgetError
from plexica_infra.providers._inputs import HealthGateInputs

__all__ = ["PROBE_TIMEOUT_SECONDS", "ProbeResponse", "percentile", "run_health_gate"]

#: One probe request; the guide's Kubernetes liveness probe uses timeoutSeconds 5.
PROBE_TIMEOUT_SECONDS = 5.0
_FIRST_INTERVAL_SECONDS = 0.1
_BODY_EXCERPT_CHARS = 200


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with `pct` % of values at or below it."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class ProbeResponse:
    url: str
    status: int | None
    body: str
    error: str | None
    elapsed_ms: float

    @property
    def ok(self) -> bool:
        return self.status == 200

    def describe(self) -> str:
        answer = f"{self.status} {self.body or '<empty body>'}" if self.error is None else self.error
        return f"GET {self.url} -> {answer} ({self.elapsed_ms:.1f} ms)"

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "status": self.status,
            "body": self.body,
            "error": self.error,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


@dataclass
class _Run:
    """One gate run: the clock every instance shares."""

    spec: HealthGateInputs
    started: float = field(default_factory=time.monotonic)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self) -> float:
        return self.spec.deadline_seconds - self.elapsed()

    def fail(
        self, message: str, history: Sequence[ProbeResponse], kind: type[HealthGateError] = HealthGateError
    ) -> HealthGateError:
        last = "; ".join(response.describe() for response in history) or "none"
        return kind(
            f"{self.spec.plugin_id}: health gate: {message}; last responses: {last}",
            plugin_id=self.spec.plugin_id,
            last_responses=[response.to_json() for response in history],
        )


def _probe(client: httpx.Client, url: str, timeout: float) -> ProbeResponse:
    started = time.perf_counter()
    try:
        response = client.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        detail = str(exc) or "no response"
        return ProbeResponse(url, None, "", f"{type(exc).__name__}: {detail}", _ms_since(started))
    body = response.text[:_BODY_EXCERPT_CHARS].strip()
    return ProbeResponse(url, response.status_code, body, None, _ms_since(started))


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _gate_probe(
    client: httpx.Client, run: _Run, base_url: str, probe: str, path: str, budget_ms: float
) -> dict[str, float]:
    """Wait for one probe of one instance to pass; returns its p50/p95 in ms."""
    spec = run.spec
    url = base_url + path
    history: deque[ProbeResponse] = deque(maxlen=max(spec.failure_threshold, 3))
    counted = 0
    interval = _FIRST_INTERVAL_SECONDS
    while True:
        response = _probe(client, url, max(0.1, min(PROBE_TIMEOUT_SECONDS, run.remaining())))
        history.append(response)
        if response.ok:
            samples = [_probe(client, url, PROBE_TIMEOUT_SECONDS) for _ in range(spec.latency_samples)]
            flapped = next((sample for sample in samples if not sample.ok), None)
            if flapped is None:
                latencies = [sample.elapsed_ms for sample in samples]
                p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
                if p95 > budget_ms:
                    raise run.fail(
                        f"{base_url} {probe} p95 latency {p95:.1f} ms is over the "
                        f"{budget_ms:g} ms budget (p50 {p50:.1f} ms over {len(samples)} samples)",
                        samples,
                        LatencyBudgetError,
                    )
                return {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1)}
            history.append(flapped)
            counted = 0  # the 200 broke the run of failures; the flap starts a new one
        if run.elapsed() >= spec.start_period_seconds:
            counted += 1
        if counted >= spec.failure_threshold:
            raise run.fail(
                f"{base_url} {probe} failed {counted} consecutive times after the "
                f"{spec.start_period_seconds:g} s start period",
                history,
            )
        delay = interval / 2 + random.uniform(0, interval / 2)
        interval = min(interval * 2, spec.probe_interval_seconds)
        if delay >= run.remaining():
            raise run.fail(
                f"{base_url} {probe} did not pass within the {spec.deadline_seconds:g} s deadline",
                history,
            )
        time.sleep(delay)


def run_health_gate(spec: HealthGateInputs) -> dict[str, Any]:
    """Gate every instance; returns the latency outputs or raises HealthGateError."""
    run = _Run(spec)
    instances: list[dict[str, Any]] = []
    for base_url in spec.base_urls:
        verify = tls_verify(base_url, spec.insecure_skip_tls_verify, what="base URL")
        with httpx.Client(verify=ssl_context(verify), follow_redirects=False) as client:
            live = _gate_probe(client, run, base_url, "liveness", spec.liveness_path, spec.live_p95_budget_ms)
            ready = _gate_probe(client, run, base_url, "readiness", spec.readiness_path, spec.ready_p95_budget_ms)
        instances.append(
            {
                "base_url": base_url,
                "live_p50_ms": live["p50_ms"],
                "live_p95_ms": live["p95_ms"],
                "ready_p50_ms": ready["p50_ms"],
                "ready_p95_ms": ready["p95_ms"],
            }
        )
    return {
        "instances": instances,
        "live_p50_ms": max(item["live_p50_ms"] for item in instances),
        "live_p95_ms": max(item["live_p95_ms"] for item in instances),
        "ready_p50_ms": max(item["ready_p50_ms"] for item in instances),
        "ready_p95_ms": max(item["ready_p95_ms"] for item in instances),
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "duration_seconds": round(run.elapsed(), 2),
    }
