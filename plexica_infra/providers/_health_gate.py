"""`HealthGate`: wait until every instance of a plugin is live, ready and fast enough.

For each base URL (one per container or pod), in turn: probe the liveness path
until it answers 200, then the readiness path until it answers 200. Between
failed probes the gate backs off (doubling, jittered, at most
`probe_interval_seconds`). A failure counts only once `start_period_seconds`
have passed since the gate began (the guide's Docker `start_period`); after
`failure_threshold` consecutive counted failures, or at `deadline_seconds`,
the gate fails with the last responses. Once a probe first answers 200, the
gate takes `latency_samples` more samples on a kept-alive connection and fails
when their p95 is over the budget (the guide: 100 ms live, 200 ms ready).

The gate has no state of its own: `read` returns what it recorded, `delete`
does nothing, and any input change (bump `revision` to force one) runs it again.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, CreateResult, ReadResult, Resource, UpdateResult

from plexica_infra.contract import DEFAULT_LIVENESS_PATH, DEFAULT_READINESS_PATH
from plexica_infra.providers._base import ProviderBase, plain
from plexica_infra.providers._config import ssl_context, tls_verify
from plexica_infra.providers._exceptions import HealthGateError, LatencyBudgetError
from plexica_infra.providers._inputs import InputCheck, raise_input_problems

__all__ = [
    "HEALTH_GATE_DEADLINE_SECONDS",
    "HEALTH_GATE_FAILURE_THRESHOLD",
    "HEALTH_GATE_START_PERIOD_SECONDS",
    "LATENCY_SAMPLES",
    "LIVE_P95_BUDGET_MS",
    "PROBE_INTERVAL_SECONDS",
    "PROBE_TIMEOUT_SECONDS",
    "READY_P95_BUDGET_MS",
    "HealthGate",
    "HealthGateProvider",
    "HealthGateSpec",
    "ProbeResponse",
    "percentile",
]

#: Matches the stack config default (`plexica:health.deadlineSeconds`).
HEALTH_GATE_DEADLINE_SECONDS = 180.0
#: The guide's Docker healthcheck `start_period: 40s`.
HEALTH_GATE_START_PERIOD_SECONDS = 40.0
#: The guide: "Health checks fail after 3 retries"; Docker `retries: 3`.
HEALTH_GATE_FAILURE_THRESHOLD = 3
#: The guide: liveness "must respond within 100ms (P95)", readiness within 200 ms.
LIVE_P95_BUDGET_MS = 100.0
READY_P95_BUDGET_MS = 200.0
#: Samples per probe after the first 200, for p50/p95.
LATENCY_SAMPLES = 10
#: One probe request; the guide's Kubernetes liveness probe uses timeoutSeconds 5.
PROBE_TIMEOUT_SECONDS = 5.0
#: Longest wait between two failed probes; the backoff starts at a tenth of a second.
PROBE_INTERVAL_SECONDS = 5.0
_FIRST_INTERVAL_SECONDS = 0.1
_BODY_EXCERPT_CHARS = 200

_DEFAULTS: dict[str, Any] = {
    "liveness_path": DEFAULT_LIVENESS_PATH,
    "readiness_path": DEFAULT_READINESS_PATH,
    "deadline_seconds": HEALTH_GATE_DEADLINE_SECONDS,
    "start_period_seconds": HEALTH_GATE_START_PERIOD_SECONDS,
    "failure_threshold": HEALTH_GATE_FAILURE_THRESHOLD,
    "live_p95_budget_ms": LIVE_P95_BUDGET_MS,
    "ready_p95_budget_ms": READY_P95_BUDGET_MS,
    "latency_samples": LATENCY_SAMPLES,
    "probe_interval_seconds": PROBE_INTERVAL_SECONDS,
    "insecure_skip_tls_verify": False,
    "revision": "",
}


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


@dataclass(frozen=True)
class HealthGateSpec:
    """The validated inputs of a HealthGate (defaults: the constants above)."""

    plugin_id: str
    base_urls: tuple[str, ...]
    liveness_path: str = DEFAULT_LIVENESS_PATH
    readiness_path: str = DEFAULT_READINESS_PATH
    deadline_seconds: float = HEALTH_GATE_DEADLINE_SECONDS
    start_period_seconds: float = HEALTH_GATE_START_PERIOD_SECONDS
    failure_threshold: int = HEALTH_GATE_FAILURE_THRESHOLD
    live_p95_budget_ms: float = LIVE_P95_BUDGET_MS
    ready_p95_budget_ms: float = READY_P95_BUDGET_MS
    latency_samples: int = LATENCY_SAMPLES
    probe_interval_seconds: float = PROBE_INTERVAL_SECONDS
    insecure_skip_tls_verify: bool = False
    revision: str = ""

    @staticmethod
    def problems(props: Mapping[str, Any]) -> list[tuple[str, str]]:
        check = (
            InputCheck(props)
            .required("plugin_id", "base_urls")
            .plugin_id()
            .flags("insecure_skip_tls_verify")
            .urls("base_urls", many=True, what="base URL", example="http://127.0.0.1:3100")
        )
        for key in ("liveness_path", "readiness_path"):
            check.rule(
                key,
                lambda value: isinstance(value, str) and value.startswith("/"),
                f"{key} must be a path starting with '/', e.g. /health/live",
            )
        for key in ("deadline_seconds", "live_p95_budget_ms", "ready_p95_budget_ms", "probe_interval_seconds"):
            check.rule(key, lambda value: _is_number(value) and value > 0, f"{key} must be a positive number")
        check.rule(
            "start_period_seconds",
            lambda value: _is_number(value) and value >= 0,
            "start_period_seconds must be 0 or more",
        )
        for key in ("failure_threshold", "latency_samples"):
            check.rule(
                key,
                lambda value: _is_number(value) and value >= 1 and float(value).is_integer(),
                f"{key} must be a whole number, at least 1",
            )
        return check.problems

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> HealthGateSpec:
        props = {**_DEFAULTS, **{k: v for k, v in plain(props).items() if v is not None}}
        raise_input_problems(props, cls.problems(props), "health gate inputs")
        return cls(
            plugin_id=props["plugin_id"],
            base_urls=tuple(str(url).rstrip("/") for url in props["base_urls"]),
            liveness_path=props["liveness_path"],
            readiness_path=props["readiness_path"],
            deadline_seconds=float(props["deadline_seconds"]),
            start_period_seconds=float(props["start_period_seconds"]),
            failure_threshold=int(props["failure_threshold"]),
            live_p95_budget_ms=float(props["live_p95_budget_ms"]),
            ready_p95_budget_ms=float(props["ready_p95_budget_ms"]),
            latency_samples=int(props["latency_samples"]),
            probe_interval_seconds=float(props["probe_interval_seconds"]),
            insecure_skip_tls_verify=bool(props["insecure_skip_tls_verify"]),
            revision=str(props["revision"]),
        )

    def inputs(self) -> dict[str, Any]:
        return {
            "plugin_id": self.plugin_id,
            "base_urls": list(self.base_urls),
            "liveness_path": self.liveness_path,
            "readiness_path": self.readiness_path,
            "deadline_seconds": self.deadline_seconds,
            "start_period_seconds": self.start_period_seconds,
            "failure_threshold": self.failure_threshold,
            "live_p95_budget_ms": self.live_p95_budget_ms,
            "ready_p95_budget_ms": self.ready_p95_budget_ms,
            "latency_samples": self.latency_samples,
            "probe_interval_seconds": self.probe_interval_seconds,
            "insecure_skip_tls_verify": self.insecure_skip_tls_verify,
            "revision": self.revision,
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class _Run:
    """One gate run: the clock every instance shares."""

    spec: HealthGateSpec
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


def run_health_gate(spec: HealthGateSpec) -> dict[str, Any]:
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


class HealthGateProvider(ProviderBase):
    """Dynamic provider behind `HealthGate` (usable directly in tests)."""

    INPUT_KEYS: ClassVar[tuple[str, ...]] = ("plugin_id", "base_urls", *_DEFAULTS)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {**_DEFAULTS, **{k: v for k, v in news.items() if v is not None}}
        return CheckResult(inputs, [CheckFailure(k, r) for k, r in HealthGateSpec.problems(plain(inputs))])

    def normalize(self, key: str, value: Any) -> Any:
        if value is None:
            value = _DEFAULTS.get(key)
        if key == "base_urls" and isinstance(value, list | tuple):
            return [str(url).rstrip("/") for url in value]
        if _is_number(value):
            return float(value)
        return value

    def _gate(self, props: Mapping[str, Any]) -> dict[str, Any]:
        spec = HealthGateSpec.from_props(props)
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


class HealthGate(Resource, module="plexica", name="HealthGate"):
    """Passes once every instance of a plugin is live, ready and within its latency budgets.

    Make the resources that must wait for healthy instances (the service and
    plugin registrations) depend on it. Outputs echo the inputs, plus
    `instances` (per base URL: live/ready p50/p95 in ms), the worst
    `live_p50_ms`, `live_p95_ms`, `ready_p50_ms`, `ready_p95_ms` over all
    instances, `checked_at` and `duration_seconds`.
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

    def __init__(
        self,
        resource_name: str,
        *,
        plugin_id: pulumi.Input[str],
        base_urls: pulumi.Input[Sequence[pulumi.Input[str]]],
        liveness_path: pulumi.Input[str] = DEFAULT_LIVENESS_PATH,
        readiness_path: pulumi.Input[str] = DEFAULT_READINESS_PATH,
        deadline_seconds: pulumi.Input[float] = HEALTH_GATE_DEADLINE_SECONDS,
        start_period_seconds: pulumi.Input[float] = HEALTH_GATE_START_PERIOD_SECONDS,
        failure_threshold: pulumi.Input[int] = HEALTH_GATE_FAILURE_THRESHOLD,
        live_p95_budget_ms: pulumi.Input[float] = LIVE_P95_BUDGET_MS,
        ready_p95_budget_ms: pulumi.Input[float] = READY_P95_BUDGET_MS,
        latency_samples: pulumi.Input[int] = LATENCY_SAMPLES,
        probe_interval_seconds: pulumi.Input[float] = PROBE_INTERVAL_SECONDS,
        insecure_skip_tls_verify: pulumi.Input[bool] = False,
        revision: pulumi.Input[str] = "",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "plugin_id": plugin_id,
            "base_urls": base_urls,
            "liveness_path": liveness_path,
            "readiness_path": readiness_path,
            "deadline_seconds": deadline_seconds,
            "start_period_seconds": start_period_seconds,
            "failure_threshold": failure_threshold,
            "live_p95_budget_ms": live_p95_budget_ms,
            "ready_p95_budget_ms": ready_p95_budget_ms,
            "latency_samples": latency_samples,
            "probe_interval_seconds": probe_interval_seconds,
            "insecure_skip_tls_verify": insecure_skip_tls_verify,
            "revision": revision,
            "instances": None,
            "live_p50_ms": None,
            "live_p95_ms": None,
            "ready_p50_ms": None,
            "ready_p95_ms": None,
            "checked_at": None,
            "duration_seconds": None,
        }
        super().__init__(HealthGateProvider(), resource_name, props, opts)
