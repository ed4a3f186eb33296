"""What must hold before a plugin or an endpoint takes traffic: the Core API's health checks.

Install and the hot-swap update check every registered endpoint of the plugin
(`check_plugin_health`); a service registration is refused when an endpoint is outside
the upstream policy, and, for an ACTIVE plugin (which routes at once), when a new
endpoint is not healthy (`admit_service`). Failures are 424 errors that name each
endpoint and its answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from plexica_infra.contract import LifecycleState
from plexica_infra.core_api._errors import ApiError
from plexica_infra.core_api._health import ProbeOutcome, check_endpoints, probe_paths
from plexica_infra.core_api._state import EmulatorState
from plexica_infra.core_api._store import Store
from plexica_infra.core_api._upstreams import admit_endpoints

__all__ = ["admit_service", "check_before_switch", "check_plugin_health", "health_failure"]


def health_failure(plugin_id: str, verb: str, outcomes: list[ProbeOutcome], consequence: str) -> ApiError:
    failed = [outcome for outcome in outcomes if not outcome.ok]
    message = (
        f"{verb} of {plugin_id} failed: " + "; ".join(outcome.describe() for outcome in failed) + f"; {consequence}"
    )
    return ApiError(
        424,
        "health_check_failed",
        message,
        pluginId=plugin_id,
        checks=[outcome.to_json() for outcome in outcomes],
    )


def _no_endpoints(plugin_id: str, verb: str, consequence: str) -> ApiError:
    return ApiError(
        424,
        "no_endpoints",
        f"{verb} of {plugin_id} failed: no endpoint is registered for it in the service "
        f"registry (POST /api/v1/service-registry first); {consequence}",
        pluginId=plugin_id,
    )


async def check_plugin_health(
    state: EmulatorState, plugin_id: str, manifest: dict[str, Any], verb: str, consequence: str
) -> None:
    """Every registered endpoint of the plugin answers 200 on `manifest`'s probe paths, or 424."""
    endpoints = state.store.endpoints(plugin_id)
    if not endpoints:
        raise _no_endpoints(plugin_id, verb, consequence)
    live_path, ready_path = probe_paths(manifest)
    outcomes = await check_endpoints(state.http, endpoints, live_path, ready_path)
    if not all(outcome.ok for outcome in outcomes):
        raise health_failure(plugin_id, verb, outcomes, consequence)


async def check_before_switch(
    client: httpx.AsyncClient, store: Store, plugin_id: str, service_name: str, endpoints: Sequence[str]
) -> list[ProbeOutcome]:
    """Probe endpoints that would start taking traffic now; [] when none would.

    Only an ACTIVE plugin routes, so only its registry changes are checked here; the
    install and update steps check the others before the plugin becomes routable.
    """
    plugin = store.get_plugin(plugin_id)
    if plugin is None or plugin.state is not LifecycleState.ACTIVE:
        return []
    held = {s.service_name: s.endpoints for s in store.list_services(plugin_id)}.get(service_name, [])
    new = [endpoint for endpoint in endpoints if endpoint not in held]
    if not new:
        return []
    live, ready = probe_paths(plugin.manifest)
    return await check_endpoints(client, new, live, ready)


async def admit_service(state: EmulatorState, plugin_id: str, service_name: str, endpoints: list[str]) -> None:
    """Refuse endpoints outside the upstream policy (400), and for an ACTIVE plugin new
    endpoints that are not healthy (424): a registry change takes traffic at once."""
    if (refusal := admit_endpoints(state.policy, endpoints)) is not None:
        raise ApiError(400, "invalid_endpoint", refusal, pluginId=plugin_id)
    outcomes = await check_before_switch(state.http, state.store, plugin_id, service_name, endpoints)
    if not all(outcome.ok for outcome in outcomes):
        raise health_failure(plugin_id, "registry change", outcomes, "the service registry is unchanged")
