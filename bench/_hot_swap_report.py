"""The report of `bench_hot_swap.py`: gateway statistics per phase, ratios, printed lines."""

from __future__ import annotations

import statistics
from typing import Any

from plexica_infra.localenv.gateway_poller import Sample
from plexica_infra.providers import LIVE_P95_BUDGET_MS, percentile

#: The stack's defaults that decide how fast an unhealthy container is detected.
HEALTH_START_PERIOD_SECONDS = 40
HEALTHCHECK_INTERVAL_SECONDS = 2  # EphemeralProject's `healthcheckIntervalSeconds`
HEALTH_RETRIES = 3


def gateway_stats(samples: list[Sample], exhausted: bool) -> dict[str, Any]:
    latencies = [s.latency_ms for s in samples]
    non_200 = [s for s in samples if not s.ok]
    upstreams: list[str | None] = []
    versions: list[str | None] = []
    for sample in samples:
        if not upstreams or upstreams[-1] != sample.upstream:
            upstreams.append(sample.upstream)
        if sample.ok and (not versions or versions[-1] != sample.version):
            versions.append(sample.version)
    return {
        "requests": len(samples),
        "non_200": len(non_200),
        "non_200_detail": sorted({f"{s.status} {s.error}"[:120] for s in non_200})[:5],
        "p50_ms": round(percentile(latencies, 50), 2) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "upstream_runs": upstreams,
        "version_runs": versions,
        "poller_hit_its_bound": exhausted,
    }


def ratios(report: dict[str, Any]) -> dict[str, Any]:
    budget = LIVE_P95_BUDGET_MS
    out: dict[str, Any] = {"liveness_budget_ms": budget}
    swaps = report.get("swaps") or []
    idle = report.get("idle_gateway") or {}
    if swaps:
        all_p95 = [s["gateway"]["p95_ms"] for s in swaps if s["gateway"]["p95_ms"] is not None]
        all_max = [s["gateway"]["max_ms"] for s in swaps if s["gateway"]["max_ms"] is not None]
        requests = sum(s["gateway"]["requests"] for s in swaps)
        failures = sum(s["gateway"]["non_200"] for s in swaps)
        out["swap_gateway_p95_worst_vs_budget"] = round(max(all_p95) / budget, 3) if all_p95 else None
        out["swap_gateway_max_worst_vs_budget"] = round(max(all_max) / budget, 3) if all_max else None
        out["swap_gateway_availability"] = round(1 - failures / requests, 6) if requests else None
        if idle.get("p95_ms"):
            out["swap_p95_worst_vs_idle_p95"] = round(max(all_p95) / idle["p95_ms"], 2) if all_p95 else None
        initial = report.get("initial_up", {}).get("up_seconds")
        mean_swap = statistics.fmean(s["up_seconds"] for s in swaps)
        out["swap_up_seconds_mean"] = round(mean_swap, 2)
        if initial:
            out["swap_up_vs_initial_up"] = round(mean_swap / initial, 2)
    if idle.get("p95_ms") is not None:
        out["idle_gateway_p95_vs_budget"] = round(idle["p95_ms"] / budget, 3)
    unhealthy = report.get("failed_unhealthy")
    if unhealthy:
        detection = HEALTH_START_PERIOD_SECONDS + HEALTH_RETRIES * HEALTHCHECK_INTERVAL_SECONDS
        out["unhealthy_detection_floor_seconds"] = detection
        out["failed_up_vs_detection_floor"] = round(unhealthy["failed_up"]["up_seconds"] / detection, 2)
    return out


def print_report(report: dict[str, Any]) -> None:
    def gw(stats: dict[str, Any]) -> str:
        return (
            f"{stats['requests']} requests, {stats['non_200']} non-200, p50 {stats['p50_ms']} ms, "
            f"p95 {stats['p95_ms']} ms, max {stats['max_ms']} ms"
            + (" [POLLER HIT ITS BOUND]" if stats["poller_hit_its_bound"] else "")
        )

    print(f"environment: {report['environment']}")
    initial = report["initial_up"]
    print(f"initial up (crm + analytics): {initial['up_seconds']} s, {initial['resources_created']} resources created")
    if report.get("idle_gateway"):
        print(f"gateway at rest: {gw(report['idle_gateway'])}")
    for n, swap in enumerate(report.get("swaps", []), 1):
        runs = swap["gateway"]["upstream_runs"]
        switched = runs == [swap["old_endpoint"], swap["new_endpoint"]]
        print(
            f"hot swap {n} (-> {swap['to_version']}): up {swap['up_seconds']} s; gateway {gw(swap['gateway'])}; "
            f"upstream {'switched old -> new once' if switched else runs}; Core API {swap['core_api']}"
        )
    for key, title, second in (
        ("failed_unhealthy", "failed update, new version unhealthy", "fixed_up"),
        ("failed_crash", "failed update, new version crashes", "reverted_up"),
    ):
        phase = report.get(key)
        if not phase:
            continue
        failed = phase["failed_up"]
        print(
            f"{title}: `up` failed after {failed['up_seconds']} s; old container kept: {failed['old_container_kept']}; "
            f"leftovers: {failed['leftover_containers'] or 'none'}; Core API {failed['core_api']}; "
            f"gateway {gw(failed['gateway'])}"
        )
        print(f"    error: {failed['error_excerpt']}")
        then = phase[second]
        print(
            f"  then {second.replace('_', ' ')}: {then['up_seconds']} s, container replaced: "
            f"{then['container_replaced']}, Core API {then['core_api']}; gateway {gw(then['gateway'])}"
        )
    print("ratios:")
    for key, value in report["ratios"].items():
        print(f"  {key}: {value}")
    if report.get("skipped"):
        print(f"skipped (time limit): {', '.join(report['skipped'])}")
    print(f"total: {report['total_seconds']} s")
