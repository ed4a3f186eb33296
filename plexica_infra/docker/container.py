"""Plugin containers: the guide's "Docker Compose Deployment" service, hardened, with
its "Resource Limits" enforced, and replaced without downtime.

What a container gets
=====================
* Limits from the manifest, enforced (the guide's "planned, not enforced"):
  - `cpus`: `500m` -> "0.5", i.e. NanoCpus 500000000. Whole cores are written "1.0",
    the form the provider reads back; "1" would differ from it on every diff, and
    `cpus` forces replacement.
  - `memory` in MiB, rounded down so the enforced limit never exceeds the declared
    one, and `memory_swap` equal to it (no swap on top).
  - `memory_reservation` from the request.
* Hardening from the guide's Dockerfile and Kubernetes securityContext: user
  1001:1001, read-only root filesystem with a tmpfs at /tmp, every capability
  dropped, `no-new-privileges`, json-file logs rotated.
* The guide's healthcheck (30 s interval, 10 s timeout; start period and retries
  from the stack's `health` settings, default 40 s and 3) on the liveness path, plus
  a 2 s `start_interval` (Docker >= 25) so a healthy plugin is reported healthy
  within seconds instead of after the first 30 s interval; older engines ignore it
  and report health after 30 s. `wait=True`: `pulumi up` succeeds only for
  containers that became healthy within `healthTimeoutSeconds`.
* Restart policy `unless-stopped` (the guide's FAQ).

Zero-downtime replacement
=========================
Every change to a container replaces it: most Docker attributes cannot change on
a running container, and the `plexica.revision` label, a hash of the whole spec,
changes with any of the few that could (memory, restart policy); labels force
replacement. A replacement must create the new container, wait until it is
healthy, and only then delete the old.

* pulumi-docker marks `docker_container` as DeleteBeforeReplace in its bridge
  mapping (`provider/resources.go`), so by default Pulumi would delete the old
  container first. The components set `delete_before_replace=False` explicitly;
  the engine lets that resource option win over the provider's request
  (`step_generator.go`: `goal.DeleteBeforeReplace` overrides `diff.DeleteBeforeReplace`).
  Caveat: a resource transform that hands back the container's options loses this:
  the Python SDK (3.272, `runtime/_callbacks.py`) serializes `delete_before_replace`
  only when it is true, so a stack transform silently restores delete-before-replace.
* Names. Docker names are unique, so old and new must never share one. A name
  derived only from the spec (`plexica-plugin-crm-<hash>`) collides in the case that
  matters most: after a failed rollout the old container is still running (Pulumi
  keeps it, marked pending-delete), and rolling the spec back recreates its exact
  name. So `name` is left unset and the provider autonames the container
  `<resource name>-<7 hex>`: Pulumi's `Check` reuses the stored name while nothing
  changes (`pulumi preview` shows no diff), and every replacement re-runs `Check`
  without the old inputs and with a fresh random seed, so it gets a new name. The
  resource name is `plexica-plugin-<id>` for the first instance and
  `plexica-plugin-<id>-<n>` for the others, so scaling up never replaces instance 1.
  The spec hash is still computed: it is the `plexica.revision` label and the
  component's `revision` output.
* Ports. DEVIATION FROM THE GUIDE: the guide publishes `3100:3100`. A fixed host
  port cannot be held by the old and the new container at once, so the container
  port is published on `bindAddress` (default 127.0.0.1) without a host port and
  Docker assigns a free ephemeral one; `instance_urls` reports it.
* DNS. Every instance carries the network aliases `plexica-plugin-<id>` (the
  guide's container name) and `plugin-<id>` (its compose service name), so other
  plugins keep calling `http://plugin-crm:3100` across swaps. Docker's embedded DNS
  ignores health: while old and new overlap, the alias resolves to both, including
  the new container before it is healthy. The service registry (Core API) is the
  health-aware route; it gets the per-instance URLs (`internal_urls`), which change
  with every replacement.

Rollback: what happens to a container that fails `wait`
=======================================================
The provider in use is our own (`tools/pulumi-resource-docker`, since the bridged
pulumi-docker provider cannot be built here): when a new container does not become
healthy within `wait_timeout`, or exits, it removes that container itself and fails
the create without recording partial state. Pulumi then keeps the old container
(never touched, still serving, still in the service registry) and reports the error;
the next `pulumi up` starts the replacement again. `tests/e2e/test_hot_swap.py`
checks this against a real dockerd.

Two safety nets stay for providers that behave like the upstream one
(terraform-provider-docker v4.5.0 records the failed container's id, does not remove
it, and Pulumi keeps it with initialization errors):

* an `on_error` hook (`rollback.py`): when a create fails, it removes the container
  named in the failed create's inputs, once its labels show it is this plugin's, this
  revision's and managed here. It never retries, leaves a container alone after a
  name conflict, and logs the `docker rm -f` command when it cannot reach the engine;
* `replace_on_changes=["#initerror"]`: a resource left with initialization errors is
  replaced on the next `pulumi up` even with an unchanged spec, so it is created and
  waited for again under a fresh name. (`#initerror` is the pseudo-property the
  engine matches replace paths against when the prior state has init errors; `["*"]`
  would also turn every read-back difference into a replacement.)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import replace

from plexica_infra.config import StackConfig
from plexica_infra.docker.container_spec import (
    CAP_DROP,
    HEALTH_START_INTERVAL,
    HEALTH_TIMEOUT,
    LOG_DRIVER,
    LOG_OPTS,
    RESTART_POLICY,
    RUN_AS_USER,
    SECURITY_OPTS,
    TMPFS,
    ContainerSpec,
    Healthcheck,
    PortSpec,
    provider_cpus,
    revision,
)
from plexica_infra.docker.env import plugin_env, service_hostnames
from plexica_infra.docker.labels import INSTANCE_LABEL, REVISION_LABEL, plugin_labels
from plexica_infra.manifest import PluginManifest
from plexica_infra.placement import effective_replicas, plugin_image
from plexica_infra.quantities import docker_memory_mib

__all__ = ["container_specs", "host_url", "liveness_url", "resource_name"]


def resource_name(plugin_id: str, instance: int) -> str:
    """Pulumi resource name, also the container name's prefix: instance 1 keeps the bare
    name so scaling from 1 to n adds containers without replacing the first."""
    base = f"plexica-plugin-{plugin_id}"
    return base if instance == 1 else f"{base}-{instance}"


def liveness_url(manifest: PluginManifest) -> str:
    """The liveness URL as the healthcheck sees it, from inside the container."""
    return f"http://127.0.0.1:{manifest.deployment.port}{manifest.api.liveness_path}"


def host_url(bind_address: str, port: int | str) -> str:
    """A URL for a port published on `bind_address`, connectable from this host."""
    address = ipaddress.ip_address(bind_address)
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    host = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{host}:{port}"


def _healthcheck(manifest: PluginManifest, stack: StackConfig) -> Healthcheck:
    url = liveness_url(manifest)
    return Healthcheck(
        tests=tuple(part.replace("{url}", url) for part in stack.docker.healthcheck_command),
        interval=f"{stack.docker.healthcheck_interval_seconds}s",
        timeout=HEALTH_TIMEOUT,
        start_period=f"{stack.health.start_period_seconds}s",
        start_interval=HEALTH_START_INTERVAL,
        retries=stack.health.failure_threshold,
    )


def container_specs(
    manifest: PluginManifest,
    stack: StackConfig,
    dependencies: Mapping[str, PluginManifest] | None = None,
    *,
    identity: Mapping[str, str] | None = None,
) -> tuple[ContainerSpec, ...]:
    """One spec per instance; all share one revision.

    `dependencies` maps each id in `manifest.deployment.dependencies` to its manifest
    (for READY_DEPENDENCIES); a missing one raises KeyError naming it. `identity` is the
    stack's labels (`labels.stack_identity`), which the orphan sweep looks for.
    """
    resources = manifest.runtime.resources
    memory_mib = docker_memory_mib(resources.memory_bytes)
    image = plugin_image(manifest, stack)
    base = ContainerSpec(
        resource_name="",
        instance=0,
        revision="",
        image=image,
        env=plugin_env(manifest, stack, dependencies or {}),
        labels={**plugin_labels(manifest, image=image), **(identity or {})},
        network=stack.docker.network,
        aliases=service_hostnames(manifest.id),
        ports=(PortSpec(internal=manifest.deployment.port, ip=stack.docker.bind_address),),
        healthcheck=_healthcheck(manifest, stack),
        cpus=provider_cpus(resources.cpu_millicores),
        memory_mib=memory_mib,
        memory_swap_mib=memory_mib,
        memory_reservation_mib=docker_memory_mib(resources.memory_request_bytes),
        user=RUN_AS_USER,
        read_only=True,
        tmpfs=dict(TMPFS),
        cap_drop=CAP_DROP,
        security_opts=SECURITY_OPTS,
        restart=RESTART_POLICY,
        log_driver=LOG_DRIVER,
        log_opts=dict(LOG_OPTS),
        wait=True,
        wait_timeout_seconds=stack.docker.health_timeout_seconds,
        stop_grace_seconds=stack.docker.stop_grace_seconds,
        hosts=tuple(sorted(stack.docker.extra_hosts.items())),
    )
    rev = revision(base)
    return tuple(
        replace(
            base,
            resource_name=resource_name(manifest.id, n),
            instance=n,
            revision=rev,
            labels={**base.labels, REVISION_LABEL: rev, INSTANCE_LABEL: str(n)},
        )
        for n in range(1, effective_replicas(manifest, stack) + 1)
    )
