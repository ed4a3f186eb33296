"""Hot-swap updates and rollback on failure: how long they take and what the gateway sees.

Runs the same kind of ephemeral project as the end-to-end tests (`plexica_infra.localenv.
ephemeral_docker.EphemeralProject`: a throwaway copy of this Pulumi project, a file backend, its own Core
API emulator and Docker network; the real Pulumi engine, providers, dockerd and the
reference plugin image) and measures:

1. the initial `up` of the two shipped plugins (crm, analytics);
2. the gateway (`GET <emulator>/api/plugins/crm/info`, with the admin token) at rest;
3. `--swaps` version-bump hot swaps of crm: `up` time, and the gateway polled every
   `--interval` seconds throughout (requests, non-200 answers, p50/p95/max latency,
   whether `X-Plexica-Upstream` moved from the old container to the new one, and the
   versions that answered);
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
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
from _hot_swap_report import gateway_stats, print_report, ratios
from pulumi import automation as auto

from plexica_infra.localenv import ensure_docker
from plexica_infra.localenv.emulator_process import Emulator, start_emulator
from plexica_infra.localenv.ephemeral import STATE_DIR
from plexica_infra.localenv.ephemeral_docker import EphemeralProject, endpoint, set_version
from plexica_infra.localenv.gateway_poller import GatewayPoller

REPO = Path(__file__).resolve().parents[1]

PLUGIN = "crm"
IMAGE_REPOSITORY = "registry.plexica.io/plugins/crm"
MAX_SWAPS = 10


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


class Bench:
    def __init__(self, args: argparse.Namespace, project: EphemeralProject, token: str) -> None:
        self.args = args
        self.project = project
        self.token = token
        self.url = project.gateway_url(PLUGIN, "info")

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
        old = self.project.only_container(PLUGIN)
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
        new = self.project.only_container(PLUGIN)
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


def cleanup(project: EphemeralProject | None, token: str, emulator: Emulator | None, root: Path) -> None:
    if project is not None:
        try:
            project.remove()
        except Exception as exc:  # best effort; reported
            log(f"cleanup: destroying the stack failed: {exc}")
        try:
            # Whatever the destroy left (e.g. after an interrupted up): only this run's network, and its tags.
            project.remove_network_leftovers()
            for image in project.client.images.list(name=IMAGE_REPOSITORY):
                for tag in image.tags:
                    if tag.endswith(f"-bench.b{token}"):
                        project.client.images.remove(tag)
        except docker.errors.DockerException as exc:
            log(f"cleanup: {exc}")
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
    emulator: Emulator | None = None
    report: dict[str, Any] = {"skipped": []}
    try:
        host = ensure_docker(STATE_DIR)
        emulator = start_emulator(root / "core-api.db", f"bench-token-{uuid.uuid4().hex}")
        project = EphemeralProject(root / "project", emulator, docker_host=host)
        project.create()
        engine = project.client.version()["Version"]
        report["environment"] = (
            f"dockerd {engine}, {os.cpu_count()} CPUs, emulator {emulator.url}, load average "
            f"{os.getloadavg()[0]:.2f} at start (the machine is shared)"
        )
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
        cleanup(project, token, emulator, root)
    report["ratios"] = ratios(report)
    report["total_seconds"] = round(time.monotonic() - started, 1)
    print_report(report)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
