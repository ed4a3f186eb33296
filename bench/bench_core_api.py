"""Core API lifecycle: provider registration throughput and emulator answer times.

Starts the Core API emulator (`python -m plexica_infra.core_api --port 0`, token in
the environment) and one fake plugin instance on 127.0.0.1, then measures:

1. registration throughput: N plugins, each a ServiceRegistration create plus a
   PluginRegistration create (register -> install with health check -> enable),
   through the providers' transport, with 1 worker and with W workers;
2. emulator answer times (p50/p95/max) for a GET of one plugin, an enable/disable
   pair, a service-registry upsert and a gateway GET routed to the plugin,
   each over one kept-alive connection.

Every loop is bounded by a count and by --time-limit seconds. Usage:

    .venv/bin/python bench/bench_core_api.py [--plugins 50] [--workers 8] [--requests 300]
                                             [--time-limit 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from plexica_infra.localenv.emulator_process import Emulator, start_emulator
from plexica_infra.localenv.fake_plugin import FakePlugin
from plexica_infra.providers import (
    PluginRegistrationProvider,
    ServiceRegistrationProvider,
    percentile,
)

MAX_PLUGINS = 500
MAX_REQUESTS = 5000


def _stats(samples_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 50), 2),
        "p95_ms": round(percentile(samples_ms, 95), 2),
        "max_ms": round(max(samples_ms), 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2),
    }


def _register_plugins(
    emulator: Emulator, plugin: FakePlugin, count: int, workers: int, time_limit: float
) -> dict[str, Any]:
    services, plugins = ServiceRegistrationProvider(), PluginRegistrationProvider()
    prefix = f"b{uuid.uuid4().hex[:6]}"
    deadline = time.monotonic() + time_limit
    durations: list[float] = []
    skipped = 0

    def deploy(index: int) -> float | None:
        if time.monotonic() > deadline:
            return None
        plugin_id = f"{prefix}-{index}"
        common = {"plugin_id": plugin_id, "core_api_url": emulator.url, "token": emulator.token}
        started = time.perf_counter()
        services.create({**common, "service_name": f"plugin-{plugin_id}", "endpoints": [plugin.url]})
        result = plugins.create({**common, "manifest": {"name": plugin_id}, "version": "1.0.0", "enabled": True})
        assert result.outs is not None and result.outs["state"] == "ACTIVE"
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for duration in pool.map(deploy, range(count)):
            if duration is None:
                skipped += 1
            else:
                durations.append(duration)
    wall = time.perf_counter() - started
    return {
        "workers": workers,
        "plugins": len(durations),
        "skipped_by_time_limit": skipped,
        "wall_seconds": round(wall, 2),
        "plugins_per_second": round(len(durations) / wall, 1),
        "per_plugin": _stats(durations),
    }


def _answer_times(
    emulator: Emulator, plugin: FakePlugin, requests: int, time_limit: float
) -> dict[str, dict[str, float]]:
    plugin_id = f"t{uuid.uuid4().hex[:8]}"
    results: dict[str, dict[str, float]] = {}
    with emulator.client() as client:
        client.post(
            "/api/v1/service-registry",
            json={"pluginId": plugin_id, "serviceName": "plugin", "endpoints": [plugin.url]},
        ).raise_for_status()
        client.post("/api/v1/plugins", json={"id": plugin_id, "name": "t", "version": "1.0.0"}).raise_for_status()
        client.post(f"/api/v1/plugins/{plugin_id}/install").raise_for_status()
        client.post(f"/api/v1/plugins/{plugin_id}/enable").raise_for_status()
        with httpx.Client(base_url=emulator.url) as public:
            calls: dict[str, Callable[[], httpx.Response]] = {
                "GET /api/v1/plugins/{id}": lambda: client.get(f"/api/v1/plugins/{plugin_id}"),
                "POST disable+enable (pair)": lambda: (
                    client.post(f"/api/v1/plugins/{plugin_id}/disable").raise_for_status()
                    and client.post(f"/api/v1/plugins/{plugin_id}/enable")
                ),
                "POST /api/v1/service-registry": lambda: client.post(
                    "/api/v1/service-registry",
                    json={"pluginId": plugin_id, "serviceName": "plugin", "endpoints": [plugin.url]},
                ),
                "GET gateway /api/plugins/{id}/ping": lambda: public.get(f"/api/plugins/{plugin_id}/ping"),
            }
            for label, call in calls.items():
                call().raise_for_status()  # warm the connection
                samples: list[float] = []
                deadline = time.monotonic() + time_limit
                while len(samples) < requests and time.monotonic() < deadline:
                    started = time.perf_counter()
                    call().raise_for_status()
                    samples.append((time.perf_counter() - started) * 1000)
                results[label] = _stats(samples)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=int, default=50, help=f"plugins to register (<= {MAX_PLUGINS})")
    parser.add_argument("--workers", type=int, default=8, help="threads for the concurrent run")
    parser.add_argument("--requests", type=int, default=300, help=f"samples per answer-time probe (<= {MAX_REQUESTS})")
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per measured loop")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    count = max(1, min(args.plugins, MAX_PLUGINS))
    requests = max(1, min(args.requests, MAX_REQUESTS))
    workers = max(1, min(args.workers, 64))

    with tempfile.TemporaryDirectory(prefix="bench-core-api-") as tmp:
        token = f"bench-{uuid.uuid4().hex}"
        emulator = start_emulator(Path(tmp) / "core-api.db", token, extra_args=["--no-access-log"])
        plugin = FakePlugin("bench")
        try:
            report: dict[str, Any] = {
                "registration": [
                    _register_plugins(emulator, plugin, count, 1, args.time_limit),
                    _register_plugins(emulator, plugin, count, workers, args.time_limit),
                ],
                "answer_times": _answer_times(emulator, plugin, requests, args.time_limit),
            }
        finally:
            plugin.close()
            emulator.stop()

    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"Registration through the providers ({count} plugins: service registry + register/install/enable)")
    for run in report["registration"]:
        per = run["per_plugin"]
        print(
            f"  {run['workers']:>2} worker(s): {run['plugins']:>3} plugins in {run['wall_seconds']:>6.2f} s"
            f" = {run['plugins_per_second']:>6.1f} plugins/s; per plugin p50 {per['p50_ms']:.1f} ms,"
            f" p95 {per['p95_ms']:.1f} ms"
            + (f" ({run['skipped_by_time_limit']} skipped by --time-limit)" if run["skipped_by_time_limit"] else "")
        )
    print(f"Emulator answer times (one kept-alive connection, up to {requests} samples each)")
    for label, stats in report["answer_times"].items():
        print(
            f"  {label:<36} n={stats['n']:<5} p50 {stats['p50_ms']:>6.2f} ms  p95 {stats['p95_ms']:>6.2f} ms"
            f"  max {stats['max_ms']:>7.2f} ms"
        )


if __name__ == "__main__":
    main()
