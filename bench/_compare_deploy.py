"""Part 1 of `bench_compare.py`: deploy on Docker, ours against docker-compose.

Ours: `pulumi up` of an ephemeral stack (its own backend, network and the run's Core API
emulator): deploy, health gate, register, install, enable. Theirs: `docker-compose up -d`
of the equivalent compose file, then waiting until every container is healthy (what
compose v2's `--wait` does). The compose file is generated from the same manifests by the
same spec builders (`container_specs`): same image, limits, health checks, hardening,
environment, network aliases, published ports and `depends_on: service_healthy`. Both
sides run interleaved, alternating which goes first.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
import uuid
from typing import Any

import yaml
from _compare_common import REPO, Context, compose, generated_manifests, load_average, log, ratio, timed
from pulumi import automation as auto

from plexica_infra.config import stack_config_from_mapping
from plexica_infra.docker.container import container_specs
from plexica_infra.localenv.ephemeral import SECRETS
from plexica_infra.manifest import PluginManifest

COMPOSE_HEALTHY_TIMEOUT_SECONDS = 600.0
COMPOSE_SECRETS = {"database_url": "databaseUrl", "redis_url": "redisUrl", "jwt_secret": "jwtSecret"}


def ensure_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        raise SystemExit(
            "bench_compare.py needs Debian's docker-compose (1.29): `make bench` installs it, or run "
            "`apt-get install -y docker-compose`"
        )
    return subprocess.run([found, "version", "--short"], capture_output=True, text=True, check=False).stdout.strip()


def compose_file(manifests: dict[str, dict[str, Any]], network: str, emulator_url: str) -> dict[str, Any]:
    """The guide's compose deployment of `manifests`, from the same spec builders as our containers."""
    local = yaml.safe_load((REPO / "Pulumi.local.yaml").read_text())["config"]["plexica:docker"]
    values = {
        "target": "docker",
        "coreApiUrl": emulator_url,
        "kafkaBrokers": "redpanda:29092",
        "docker": {**local, "network": network, "externalNetwork": False},
    }
    stack = stack_config_from_mapping(values, source="bench")
    models = {pid: PluginManifest.model_validate(m) for pid, m in manifests.items()}
    secrets = {name: SECRETS[key] or "" for name, key in COMPOSE_SECRETS.items()}
    services: dict[str, Any] = {}
    for pid, model in models.items():
        deps = {dep: models[dep] for dep in model.deployment.dependencies}
        (spec,) = container_specs(model, stack, deps)
        check = spec.healthcheck
        services[f"plugin-{pid}"] = {
            "image": spec.image,
            "environment": [
                f"{var.name}={var.value if var.value is not None else secrets[var.secret or '']}" for var in spec.env
            ],
            "labels": dict(spec.labels),
            "networks": {"plexica": {"aliases": list(spec.aliases)}},
            "ports": [f"{p.ip}::{p.internal}" for p in spec.ports],
            "healthcheck": {
                "test": list(check.tests),
                "interval": check.interval,
                "timeout": check.timeout,
                "start_period": check.start_period,
                "retries": check.retries,
            },
            "cpus": float(spec.cpus),
            "mem_limit": f"{spec.memory_mib}m",
            "memswap_limit": f"{spec.memory_swap_mib}m",
            "mem_reservation": f"{spec.memory_reservation_mib}m",
            "user": spec.user,
            "read_only": spec.read_only,
            "tmpfs": [f"{path}:{options}" for path, options in spec.tmpfs.items()],
            "cap_drop": list(spec.cap_drop),
            "security_opt": list(spec.security_opts),
            "restart": spec.restart,
            "logging": {"driver": spec.log_driver, "options": dict(spec.log_opts)},
            "stop_grace_period": f"{spec.stop_grace_seconds}s",
            "depends_on": {f"plugin-{dep}": {"condition": "service_healthy"} for dep in model.deployment.dependencies},
        }
    return {"version": "2.4", "services": services, "networks": {"plexica": {"name": network}}}


def run_compose(ctx: Context, manifests: dict[str, dict[str, Any]]) -> float:
    """Seconds from `docker-compose up -d` until every container is healthy."""
    name = f"plexicabench{uuid.uuid4().hex[:8]}"
    network = f"plexica-bench-{uuid.uuid4().hex[:8]}"
    folder = ctx.root / name
    folder.mkdir()
    file = folder / "docker-compose.yml"
    file.write_text(yaml.safe_dump(compose_file(manifests, network, ctx.emulator.url), sort_keys=False))
    ctx.compose_runs.append((file, name))
    label = f"com.docker.compose.project={name}"
    with timed() as total:
        compose(ctx.host, file, name, "up", "-d")
        deadline = time.monotonic() + COMPOSE_HEALTHY_TIMEOUT_SECONDS
        while True:
            healthy, count, problems = ctx.healthy(label)
            if problems:
                raise RuntimeError(f"compose: containers failed: {problems}")
            if healthy == count == len(manifests):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"compose: {healthy}/{len(manifests)} healthy after {COMPOSE_HEALTHY_TIMEOUT_SECONDS} s"
                )
            time.sleep(0.05)
    compose(ctx.host, file, name, "down", "--volumes", "--timeout", "5", check=False)
    ctx.compose_runs.remove((file, name))
    return total.seconds


def run_ours(ctx: Context, manifests: dict[str, dict[str, Any]]) -> tuple[float, float]:
    """Seconds of `pulumi up` (deploy, gate, register, install, enable) of a fresh stack, and of
    the `up` right after it, which changes nothing: the fixed cost of a run (refresh included)."""
    project = ctx.project(f"deploy-{len(manifests)}-{uuid.uuid4().hex[:6]}", manifests)
    with timed() as up:
        project.stack.up(color="never", on_output=lambda _line: None)
    core = [project.core_plugin(pid) for pid in manifests]
    active = sum(1 for plugin in core if plugin and plugin["state"] == "ACTIVE")
    with timed() as noop:
        again = project.stack.up(color="never", on_output=lambda _line: None)
    ctx.drop(project)
    if active != len(manifests):
        raise RuntimeError(f"ours: {active}/{len(manifests)} plugins ACTIVE after `up`")
    changed = {op: n for op, n in (again.summary.resource_changes or {}).items() if op != auto.OpType.SAME}
    if changed:
        raise RuntimeError(f"ours: the `up` after the deploy changed {changed}")
    return up.seconds, noop.seconds


def bench_deploy(ctx: Context, sizes: list[int], rounds: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        manifests = generated_manifests(size)
        ours: list[float] = []
        noops: list[float] = []
        theirs: list[float] = []
        loads = [load_average()]
        for n in range(rounds):
            # Alternate who goes first, so neither side always meets a warmer engine.
            for side in ("ours", "compose") if (n + size) % 2 == 0 else ("compose", "ours"):
                log(f"deploy {size} plugins, round {n + 1}/{rounds}: {side}")
                if side == "ours":
                    seconds, noop = run_ours(ctx, manifests)
                    ours.append(round(seconds, 2))
                    noops.append(round(noop, 2))
                else:
                    theirs.append(round(run_compose(ctx, manifests), 2))
                loads.append(load_average())
        mine, base = statistics.median(ours), statistics.median(theirs)
        rows.append(
            {
                "plugins": size,
                "ours_seconds": round(mine, 2),
                "compose_seconds": round(base, 2),
                "ours_noop_seconds": round(statistics.median(noops), 2),
                "ratio": ratio(mine, base),
                "ours_all": ours,
                "compose_all": theirs,
                "load": f"{min(loads)}-{max(loads)}",
            }
        )
    return rows
