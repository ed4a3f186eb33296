"""Hot-swap updates and rollback on failure: how long they take and what the gateway sees.

Runs the same kind of ephemeral project as the end-to-end tests (`tests.e2e._project.
EphemeralProject`: a throwaway copy of this Pulumi project, a file backend, its own Core
API emulator and Docker network; the real Pulumi engine, providers, dockerd and the
reference plugin image) and measures:

1. the initial `up` of the two shipped plugins (crm, analytics);
2. the gateway (`GET <emulator>/api/plugins/crm/health/live`) at rest, for a baseline;
3. `--swaps` version-bump hot swaps of crm: `up` time, and the gateway polled every
   `--interval` seconds throughout (requests, non-200 answers, p50/p95/max latency,
   whether `X-Plexica-Upstream` moved from the old container to the new one);
4. a failed update (the new version's health endpoints answer 503) and its rollback:
   time until `up` fails, the gateway meanwhile, that the old container still serves;
   then the `up` with the fixed manifest;
5. a failed update whose new container crashes at start, then the `up` that reverts it;
6. ratios against the guide's budgets (liveness p95 100 ms) and the idle baseline.

Every loop is bounded (at most 10 swaps; each gateway poll at most --max-requests
requests and --max-seconds seconds; phases after --time-limit seconds are skipped).
Versions are unique per run (`1.2.<n>-bench.<hex>`), and everything the run created is
removed at the end: the stack (destroy), its network and containers, the emulator, the
temporary directory and the image tags it added. Usage:

    .venv/bin/python bench/bench_hot_swap.py [--swaps 3] [--interval 0.05] [--idle-seconds 5]
        [--max-requests 3000] [--max-seconds 240] [--time-limit 900] [--skip-failures] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the repository root, for tests.*

import pytest  # noqa: E402
from pulumi import automation as auto  # noqa: E402

from plexica_infra.localenv import ensure_docker  # noqa: E402
from plexica_infra.providers import LIVE_P95_BUDGET_MS, percentile  # noqa: E402
from tests._docker import STATE_DIR, DockerCLI  # noqa: E402
from tests._emulator import new_token, start_emulator  # noqa: E402
from tests.e2e._project import EphemeralProject  # noqa: E402
from tests.e2e.test_hot_swap import GatewayPoller, Sample, endpoint, only_container, set_version  # noqa: E402

PLUGIN = "crm"
IMAGE_REPOSITORY = "registry.plexica.io/plugins/crm"
MAX_SWAPS = 10
#: The stack's defaults that decide how fast an unhealthy container is detected.
HEALTH_START_PERIOD_SECONDS = 40
HEALTHCHECK_INTERVAL_SECONDS = 2  # EphemeralProject's `healthcheckIntervalSeconds`
HEALTH_RETRIES = 3


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def reproduce_command(args: argparse.Namespace) -> str:
    python = os.path.relpath(sys.executable, REPO) if sys.executable.startswith(str(REPO)) else sys.executable
    argv = [
        python,
        "bench/bench_hot_swap.py",
        "--swaps",
        str(args.swaps),
        "--interval",
        str(args.interval),
        "--idle-seconds",
        str(args.idle_seconds),
        "--max-requests",
        str(args.max_requests),
        "--max-seconds",
        str(args.max_seconds),
        "--time-limit",
        str(args.time_limit),
    ]
    argv += ["--skip-failures"] if args.skip_failures else []
    argv += ["--json"] if args.json else []
    return f"cd {shlex.quote(str(REPO))} && {shlex.join(argv)}"


def gateway_stats(samples: list[Sample], exhausted: bool) -> dict[str, Any]:
    latencies = [s.latency_ms for s in samples]
    non_200 = [s for s in samples if not s.ok]
    upstreams: list[str | None] = []
    for sample in samples:
        if not upstreams or upstreams[-1] != sample.upstream:
            upstreams.append(sample.upstream)
    return {
        "requests": len(samples),
        "non_200": len(non_200),
        "non_200_detail": sorted({f"{s.status} {s.error}"[:120] for s in non_200})[:5],
        "p50_ms": round(percentile(latencies, 50), 2) if latencies else None,
        "p95_ms": round(percentile(latencies, 95), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
        "upstream_runs": upstreams,
        "poller_hit_its_bound": exhausted,
    }


class Bench:
    def __init__(self, args: argparse.Namespace, project: EphemeralProject, token: str) -> None:
        self.args = args
        self.project = project
        self.token = token
        self.url = f"{project.emulator.url}/api/plugins/{PLUGIN}/health/live"

    def poller(self) -> GatewayPoller:
        return GatewayPoller(
            self.url,
            interval=self.args.interval,
            max_requests=self.args.max_requests,
            max_seconds=self.args.max_seconds,
            headers=self.project.admin_headers(),
        )

    def version(self, n: int) -> str:
        return f"1.2.{n}-bench.b{self.token}"

    def core(self) -> tuple[str, str]:
        plugin = self.project.core_plugin(PLUGIN)
        if plugin is None:
            raise RuntimeError("the Core API does not know crm")
        return plugin["state"], plugin["version"]

    def timed_up(self, *, expect_failure: bool = False) -> dict[str, Any]:
        """One `up` with the gateway polled from just before it to just after it."""
        old = only_container(self.project)
        error: str | None = None
        with self.poller() as poller:
            poller.wait_for_samples(3)
            started = time.monotonic()
            try:
                result = self.project.up()
                outcome = result.summary.result
            except auto.CommandError as exc:
                outcome, error = "failed", str(exc)
            seconds = time.monotonic() - started
            poller.linger(1.0)
        if (error is not None) != expect_failure:
            raise RuntimeError(f"`up` {'succeeded' if error is None else 'failed'} unexpectedly: {_diagnostics(error)}")
        new = only_container(self.project)
        state, version = self.core()
        return {
            "up_seconds": round(seconds, 2),
            "outcome": outcome,
            "container_replaced": new["Id"] != old["Id"],
            "old_endpoint": endpoint(old),
            "new_endpoint": endpoint(new),
            "core_api": f"{state} {version}",
            "gateway": gateway_stats(poller.snapshot(), poller.exhausted),
            "error_excerpt": _error_line(error) if error else None,
        }

    # Phases -----------------------------------------------------------------------------------

    def initial_up(self) -> dict[str, Any]:
        started = time.monotonic()
        result = self.project.up()
        seconds = time.monotonic() - started
        return {
            "up_seconds": round(seconds, 2),
            "outcome": result.summary.result,
            "resources_created": (result.summary.resource_changes or {}).get(auto.OpType.CREATE, 0),
            "crm": "{} {}".format(*self.core()),
        }

    def idle(self) -> dict[str, Any]:
        with self.poller() as poller:
            time.sleep(self.args.idle_seconds)
        return gateway_stats(poller.snapshot(), poller.exhausted)

    def swap(self, n: int) -> dict[str, Any]:
        version = self.version(n)
        self.project.edit_manifest(PLUGIN, lambda m: set_version(m, version))
        measured = self.timed_up()
        measured["to_version"] = version
        return measured

    def failed_update(self, n: int, simulate: str) -> dict[str, Any]:
        version = self.version(n)
        original = self.project.manifest(PLUGIN)

        def broken(manifest: dict[str, Any]) -> None:
            set_version(manifest, version)
            manifest["deployment"]["env"] = {"PLEXICA_SIMULATE": simulate}

        self.project.edit_manifest(PLUGIN, broken)
        failed = self.timed_up(expect_failure=True)
        failed["to_version"] = version
        failed["old_container_kept"] = not failed["container_replaced"]
        leftovers = [
            c["Name"]
            for c in self.project.containers(all_states=True)
            if f"PLEXICA_SIMULATE={simulate}" in c["Config"]["Env"]
        ]
        failed["leftover_containers"] = leftovers
        if simulate == "unhealthy":
            # Fix forward: same version, no fault switch.
            self.project.edit_manifest(PLUGIN, lambda m: m["deployment"].pop("env"))
            label = "fixed_up"
        else:
            # Revert to the manifest that runs.
            self.project.write_manifest(PLUGIN, original)
            label = "reverted_up"
        return {"failed_up": failed, label: self.timed_up()}


def _diagnostics(error: str | None) -> str:
    """The engine's "Diagnostics:" section of a failed `up`, else its tail."""
    if not error:
        return ""
    start = error.find("Diagnostics:")
    return error[start : start + 4000] if start >= 0 else error[-3000:]


def _error_line(error: str) -> str:
    for line in error.splitlines():
        if "container plexica-plugin-" in line and "error:" in line:
            return line.strip()[:300]
    return error.strip().splitlines()[-1][:300] if error.strip() else ""


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


def cleanup(project: EphemeralProject | None, docker: DockerCLI | None, token: str, emulator: Any, root: Path) -> None:
    if project is not None:
        try:
            project.remove()
        except (Exception, pytest.fail.Exception) as exc:  # DockerCLI fails with pytest.fail
            log(f"cleanup: destroying the stack failed: {exc}")
        if docker is not None:
            # Whatever the destroy left (e.g. after an interrupted up): only this run's network.
            ids = docker.run("ps", "-aq", "--filter", f"network={project.network}", check=False).stdout.split()
            if ids:
                docker.run("rm", "-f", *ids, check=False)
            if project.network_exists():
                docker.run("network", "rm", project.network, check=False)
    if docker is not None:
        tags = docker.run("images", "--format", "{{.Repository}}:{{.Tag}}", IMAGE_REPOSITORY, check=False).stdout
        ours = [tag for tag in tags.split() if tag.endswith(f"-bench.b{token}")]
        if ours:
            docker.run("rmi", *ours, check=False)
    if emulator is not None:
        emulator.stop()
    shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=3, help=f"version-bump hot swaps (1-{MAX_SWAPS}, default 3)")
    parser.add_argument("--interval", type=float, default=0.05, help="gateway poll interval, seconds (default 0.05)")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="gateway baseline duration (default 5)")
    parser.add_argument("--max-requests", type=int, default=3000, help="per poll phase (default 3000)")
    parser.add_argument("--max-seconds", type=float, default=240.0, help="per poll phase (default 240)")
    parser.add_argument("--time-limit", type=float, default=900.0, help="skip phases after this (default 900 s)")
    parser.add_argument("--skip-failures", action="store_true", help="skip the failed-update phases")
    parser.add_argument("--json", action="store_true", help="print the report as JSON too")
    args = parser.parse_args()
    if not 1 <= args.swaps <= MAX_SWAPS:
        parser.error(f"--swaps must be 1-{MAX_SWAPS}")
    if not 0.01 <= args.interval <= 1.0 or not 1 <= args.max_requests <= 10_000 or not 1 <= args.max_seconds <= 600:
        parser.error("--interval 0.01-1, --max-requests 1-10000, --max-seconds 1-600")
    if not 0 <= args.idle_seconds <= 60:
        parser.error("--idle-seconds 0-60")

    print(f"# reproduce: {reproduce_command(args)}", flush=True)
    started = time.monotonic()
    token = uuid.uuid4().hex[:6]
    root = Path(tempfile.mkdtemp(prefix="plexica-bench-hot-swap-"))
    project: EphemeralProject | None = None
    docker: DockerCLI | None = None
    emulator = None
    report: dict[str, Any] = {"skipped": []}
    try:
        host = ensure_docker(STATE_DIR)
        docker = DockerCLI(host)
        emulator = start_emulator(root / "core-api.db", new_token())
        project = EphemeralProject(root=root / "project", emulator=emulator, docker=docker)
        project.create()
        engine = docker.run("version", "--format", "{{.Server.Version}}").stdout.strip()
        report["environment"] = f"dockerd {engine}, {os.cpu_count()} CPUs, emulator {emulator.url}"
        bench = Bench(args, project, token)

        def in_time(name: str) -> bool:
            if time.monotonic() - started > args.time_limit:
                report["skipped"].append(name)
                return False
            return True

        log("initial up")
        report["initial_up"] = bench.initial_up()
        log(f"gateway at rest for {args.idle_seconds} s")
        report["idle_gateway"] = bench.idle() if args.idle_seconds else None
        report["swaps"] = []
        for n in range(1, args.swaps + 1):
            if in_time(f"swap {n}"):
                log(f"hot swap {n}/{args.swaps}")
                report["swaps"].append(bench.swap(n))
        phases: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("failed_unhealthy", lambda: bench.failed_update(args.swaps + 1, "unhealthy")),
            ("failed_crash", lambda: bench.failed_update(args.swaps + 2, "crash")),
        ]
        for key, run in [] if args.skip_failures else phases:
            if in_time(key):
                log(f"{key.replace('_', ' ')} (and the up after it)")
                report[key] = run()
    finally:
        log("cleaning up")
        cleanup(project, docker, token, emulator, root)
    report["ratios"] = ratios(report)
    report["total_seconds"] = round(time.monotonic() - started, 1)
    print_report(report)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
