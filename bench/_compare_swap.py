"""Part 3 of `bench_compare.py`: a hot swap against the new container's own time to ready.

Ours: a version bump of crm through `pulumi up`, with the gateway polled every 20 ms with
the admin token (so each answer names its upstream, `X-Plexica-Upstream`): from the new
container's creation (Docker's `Created`) to the first gateway answer that came from it.
Theirs: the same container config, created and started by hand on the same engine, from
`Created` to its first ready 200 (polled every 10 ms). Failed gateway requests are counted.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from _compare_common import Context, docker_time, load_average, log, ratio, timed
from pulumi import automation as auto

from plexica_infra.localenv.ephemeral_docker import endpoint, set_version
from plexica_infra.localenv.gateway_poller import GatewayPoller

SWAP_REPOSITORY = "registry.plexica.io/plugins/crm"
READY_TIMEOUT_SECONDS = 60.0
POLL_INTERVAL_SECONDS = 0.02
POLL_MAX_REQUESTS = 20_000
CONTAINER_TYPE = "docker:index/container:Container"


class StepClock:
    """When (wall clock, on receipt) the engine reported each step of crm's container done."""

    def __init__(self) -> None:
        self.container_done: float | None = None

    def __call__(self, event: auto.EngineEvent) -> None:
        done = event.res_outputs_event
        created = (auto.OpType.CREATE_REPLACEMENT, auto.OpType.CREATE)
        if done is None or self.container_done is not None or done.metadata.op not in created:
            return
        if done.metadata.type == CONTAINER_TYPE and "crm" in done.metadata.urn:
            self.container_done = time.time()


def own_ready_seconds(ctx: Context, container: dict[str, Any], network: str) -> float:
    """Create and start a container with `container`'s config; seconds from Created to the first ready 200."""
    api = ctx.client.api
    config = dict(container["Config"])
    config["Labels"] = {"plexica.bench": "own-ready"}
    config["HostConfig"] = {**container["HostConfig"], "RestartPolicy": {"Name": "no"}}
    config["NetworkingConfig"] = {"EndpointsConfig": {network: {}}}
    name = f"plexica-bench-own-{uuid.uuid4().hex[:8]}"
    cid = api.create_container_from_config(config, name=name)["Id"]  # type: ignore[no-untyped-call]
    try:
        api.start(cid)
        info = api.inspect_container(cid)
        port = next(iter(info["HostConfig"]["PortBindings"]))
        url = f"http://127.0.0.1:{info['NetworkSettings']['Ports'][port][0]['HostPort']}/health/ready"
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                try:
                    if client.get(url).status_code == 200:
                        return time.time() - docker_time(info["Created"])
                except httpx.HTTPError:
                    pass
                time.sleep(0.01)
        raise RuntimeError(f"own container never became ready at {url}")
    finally:
        api.remove_container(cid, force=True)


def bench_swap(ctx: Context, swaps: int) -> list[dict[str, Any]]:
    project = ctx.project(f"swap-{uuid.uuid4().hex[:6]}", None)
    token = uuid.uuid4().hex[:6]
    log("hot swap: initial up (crm + analytics)")
    project.stack.up(color="never", on_output=lambda _line: None)
    rows = []
    try:
        for n in range(1, swaps + 1):
            version = f"1.2.{n}-bench.b{token}"
            project.edit_manifest("crm", lambda m: set_version(m, version))  # noqa: B023
            project.build_images()
            old = project.only_container("crm")
            log(f"hot swap {n}/{swaps} -> {version}")
            poller = GatewayPoller(
                project.gateway_url("crm", "info"),
                interval=POLL_INTERVAL_SECONDS,
                max_requests=POLL_MAX_REQUESTS,
                headers=project.admin_headers(),
            )
            with poller:
                poller.wait_for_samples(3)
                started, clock = time.time(), StepClock()
                with timed() as up:
                    project.stack.up(color="never", on_output=lambda _line: None, on_event=clock)
                poller.wait_for_version(version)
                poller.linger(0.3)
            new = project.only_container("crm")
            if new["Id"] == old["Id"]:
                raise RuntimeError("the swap did not replace the container")
            first = poller.first_from(endpoint(new))
            created = docker_time(new["Created"])
            own = own_ready_seconds(ctx, new, project.network)
            window = first.sent_epoch - created if first is not None else None
            rows.append(
                {
                    "up_seconds": round(up.seconds, 2),
                    "up_start_to_switch_seconds": round(first.sent_epoch - started, 2) if first else None,
                    "created_to_switch_seconds": round(window, 3) if window is not None else None,
                    "own_created_to_ready_seconds": round(own, 3),
                    # The split of created -> served: our provider's wait, then the Core API side.
                    "created_to_provider_done_seconds": round(clock.container_done - created, 3)
                    if clock.container_done
                    else None,
                    "provider_done_to_switch_seconds": round(first.sent_epoch - clock.container_done, 3)
                    if clock.container_done and first
                    else None,
                    "ratio": ratio(window, own),
                    "requests": len(poller.snapshot()),
                    "failed_requests": len(poller.failures()),
                    "versions": poller.versions(),
                    "load": load_average(),
                }
            )
    finally:
        ctx.drop(project)
        for image in ctx.client.images.list(name=SWAP_REPOSITORY):
            for tag in image.tags:
                if tag.endswith(f"-bench.b{token}"):
                    ctx.client.images.remove(tag)
    return rows
