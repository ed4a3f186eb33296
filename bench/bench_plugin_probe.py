"""Latency of the reference plugin's probes in a hardened container vs the guide's budgets.

The guide: /health/live must answer within 100 ms (P95), /health/ready within 200 ms (P95).

Starts (or reuses) the local dockerd, builds the plugin image if needed, runs two
containers on a private network with the guide's "Complex Logic" limits
(--memory 512m --cpus 0.5, read-only root, tmpfs /tmp, no capabilities, uid 1001),
and times sequential GETs from the host through the 127.0.0.1-published port:

- /health/live            (crm)
- /health/ready           (crm: /tmp check only)
- /health/ready + 1 dep   (analytics: /tmp + crm's /health/live over the docker network)

Loops are bounded by --requests (<= 5000) and --time-limit seconds per probe.
Everything created is removed at the end.

    .venv/bin/python bench/bench_plugin_probe.py [--requests 500] [--time-limit 30] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from plexica_infra.localenv import build_plugin_images, ensure_docker

REPO = Path(__file__).resolve().parents[1]

IMAGE = "plexica-bench/reference-plugin:dev"
BUDGET_MS = {"/health/live": 100.0, "/health/ready": 200.0}
LIMITS = [
    "--memory", "512m", "--cpus", "0.5", "--read-only", "--tmpfs", "/tmp",
    "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--user", "1001:1001",
    "-p", "127.0.0.1::3100",
]  # fmt: skip


def docker(host: str, *args: str, check: bool = True) -> str:
    cli = shutil.which("docker") or "docker"
    proc = subprocess.run(
        [cli, *args], capture_output=True, text=True, env={**os.environ, "DOCKER_HOST": host}, timeout=120, check=False
    )
    if check and proc.returncode != 0:
        raise SystemExit(f"docker {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout


def published(host: str, container: str) -> str:
    for line in docker(host, "port", container, "3100/tcp").splitlines():
        if line.startswith("127.0.0.1:"):
            return "http://" + line.strip()
    raise SystemExit(f"{container}: no 127.0.0.1 port")


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} not 200 within {timeout:.0f}s")


def percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return float("nan")
    index = min(len(sorted_ms) - 1, max(0, round(q / 100 * len(sorted_ms) + 0.5) - 1))
    return sorted_ms[index]


def raw_get(url: str) -> int:
    """One GET on a new TCP connection with a raw socket (no client-library setup cost)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=5.0) as sock:
        sock.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def measure(url: str, requests: int, time_limit: float, fresh_connections: bool) -> dict[str, Any]:
    samples: list[float] = []
    errors = 0
    deadline = time.monotonic() + time_limit
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        for _ in range(20):  # warm-up (connection, Go runtime)
            client.get(url)
        for _ in range(requests):
            if time.monotonic() > deadline:
                break
            started = time.perf_counter()
            try:
                ok = raw_get(url) == 200 if fresh_connections else client.get(url).status_code == 200
            except (httpx.HTTPError, OSError, ValueError, IndexError):
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            if ok:
                samples.append(elapsed)
            else:
                errors += 1
    samples.sort()
    return {
        "n": len(samples),
        "errors": errors,
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
        "p99_ms": percentile(samples, 99),
        "max_ms": samples[-1] if samples else float("nan"),
        "mean_ms": statistics.fmean(samples) if samples else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per probe (max 5000)")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per probe (max 120)")
    parser.add_argument("--fresh-connections", action="store_true", help="new TCP connection per request")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    requests = max(1, min(args.requests, 5000))
    time_limit = max(1.0, min(args.time_limit, 120.0))

    host = ensure_docker(REPO / ".state")
    build_plugin_images([IMAGE], docker_host=host, state_dir=REPO / ".state")
    prefix = f"plexica-bench-{secrets.token_hex(3)}"
    network, crm, analytics = f"{prefix}-net", f"{prefix}-crm", f"{prefix}-analytics"
    created: list[tuple[str, ...]] = []
    results: dict[str, Any] = {}
    try:
        docker(host, "network", "create", network)
        created.append(("network", "rm", network))
        for name, env in (
            (crm, ["-e", "PLUGIN_ID=crm", "-e", "PLUGIN_VERSION=1.2.0"]),
            (analytics, ["-e", "PLUGIN_ID=analytics", "-e", f"READY_DEPENDENCIES=crm=http://{crm}:3100/health/live"]),
        ):
            docker(host, "run", "-d", "--name", name, "--network", network, *LIMITS, *env, IMAGE)
            created.append(("rm", "-f", name))
        crm_url, analytics_url = published(host, crm), published(host, analytics)
        wait_ready(crm_url + "/health/ready")
        wait_ready(analytics_url + "/health/ready")
        probes = {
            "/health/live": crm_url + "/health/live",
            "/health/ready": crm_url + "/health/ready",
            "/health/ready +1 dep": analytics_url + "/health/ready",
        }
        for label, url in probes.items():
            stats = measure(url, requests, time_limit, args.fresh_connections)
            budget = BUDGET_MS[label.split(" ")[0]]
            stats["budget_ms"] = budget
            stats["p95_ratio"] = stats["p95_ms"] / budget
            results[label] = stats
    finally:
        for cmd in reversed(created):
            docker(host, *cmd, check=False)
        docker(host, "rmi", IMAGE, check=False)

    if args.json:
        print(json.dumps({"docker_host": host, "requests": requests, "probes": results}, indent=2))
        return 0
    mode = "new connection per request" if args.fresh_connections else "keep-alive"
    print(f"reference plugin probes in a container (--cpus 0.5 --memory 512m), host -> 127.0.0.1, {mode}")
    print(f"{'probe':<22}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'budget':>8}{'p95/budget':>12}")
    for label, s in results.items():
        print(
            f"{label:<22}{s['n']:>6}{s['p50_ms']:>9.2f}{s['p95_ms']:>9.2f}{s['p99_ms']:>9.2f}"
            f"{s['max_ms']:>9.2f}{s['budget_ms']:>8.0f}{s['p95_ratio']:>12.3f}"
            + (f"  ({s['errors']} errors)" if s["errors"] else "")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
