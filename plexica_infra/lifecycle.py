"""The Core API side of a deploy: one `plexica:core:Plugin` component per plugin.

Its children follow the guide's deployment flow, each waiting for the previous one:

1. `PluginRecord`: register the manifest, so the Core API knows the plugin before
   anything refers to it (a Core API keys its service registry on known plugins).
2. `HealthGate` (Docker targets): every instance answers liveness, then readiness,
   within the p95 budgets. On Kubernetes the Deployment's own readiness await is the
   gate, since cluster DNS names are not reachable from where `pulumi up` runs.
3. `ServiceRegistration`: the instances' endpoints in the Core API service registry.
4. `PluginRegistration`: install (the guide's Core API health-checks the registered
   endpoints), enable.

Dependencies (`deployment.dependencies` and the `required` entries of
`api.dependencies`) are registered and installed first. Every child speaks the
stack's `coreApiDialect` with its `coreApiAuth` credentials.

On a version bump the target replaces its containers create-before-delete; the gate
re-runs on the new instances, the registry switches to them, the Core API takes the
update, and only then does Pulumi remove the old containers. If the new version never
becomes healthy the chain stops before the switch, so the old version keeps serving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from plexica_infra.config import StackConfig, StackSecrets
from plexica_infra.manifest import PluginManifest
from plexica_infra.providers import HealthGate, PluginRecord, PluginRegistration, ServiceRegistration
from plexica_infra.target import PluginEndpoints

__all__ = ["CoreApiPlugin", "CoreApiPluginArgs", "PluginEndpoints", "service_name"]


def service_name(plugin_id: str) -> str:
    """The service registry name of a plugin's instances: `plugin-<id>` (the id itself when it has the prefix)."""
    return plugin_id if plugin_id.startswith("plugin-") else f"plugin-{plugin_id}"


@dataclass(frozen=True)
class CoreApiPluginArgs:
    manifest: PluginManifest
    stack: StackConfig
    secrets: StackSecrets
    endpoints: PluginEndpoints
    dependencies: Sequence[CoreApiPlugin] = field(default_factory=list)


class CoreApiPlugin(pulumi.ComponentResource):
    """A plugin's health gate, service registration and Core API registration."""

    state: pulumi.Output[str]
    version: pulumi.Output[str]
    endpoints: pulumi.Output[list[str]]

    def __init__(self, name: str, args: CoreApiPluginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("plexica:core:Plugin", name, None, opts)
        manifest, stack = args.manifest, args.stack
        child = pulumi.ResourceOptions(parent=self)
        after_target = [args.endpoints.target] if args.endpoints.target is not None else []
        core_api: dict[str, Any] = {
            "core_api_url": stack.core_api_url,
            "insecure_skip_tls_verify": stack.core_api_insecure_skip_tls_verify,
            "dialect": stack.core_api_dialect,
            "auth_mode": stack.core_api_auth,
            "token_url": stack.core_api_token_url or "",
            "client_id": stack.core_api_client_id or "",
            "tenant_slug": stack.core_api_tenant_slug,
            "token": args.secrets.core_api_token,
            "client_secret": args.secrets.core_api_client_secret,
        }
        document = manifest.registration_document(stack.core_api_dialect)

        record = PluginRecord(
            f"{name}-record",
            plugin_id=manifest.id,
            manifest=document,
            version=manifest.version,
            **core_api,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[dep.registration for dep in args.dependencies])
            ),
        )
        previous: list[pulumi.Resource] = [*after_target, record]
        if args.endpoints.gate:
            health = stack.health
            gate = HealthGate(
                f"{name}-health",
                plugin_id=manifest.id,
                base_urls=args.endpoints.gate_urls,
                liveness_path=manifest.api.liveness_path,
                readiness_path=manifest.api.readiness_path,
                deadline_seconds=health.deadline_seconds,
                start_period_seconds=health.start_period_seconds,
                failure_threshold=health.failure_threshold,
                live_p95_budget_ms=health.live_budget_ms,
                ready_p95_budget_ms=health.ready_budget_ms,
                latency_samples=health.latency_samples,
                revision=args.endpoints.revision or "",
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=previous)),
            )
            previous = [gate]

        service = ServiceRegistration(
            f"{name}-service",
            plugin_id=manifest.id,
            service_name=service_name(manifest.id),
            endpoints=args.endpoints.registry_urls,
            version=manifest.version,
            **core_api,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=previous)),
        )
        override = stack.plugins.get(manifest.id)
        registration = PluginRegistration(
            f"{name}-registration",
            plugin_id=manifest.id,
            manifest=document,
            version=manifest.version,
            enabled=override.enabled if override is not None else True,
            **core_api,
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(depends_on=[service, *(dep.registration for dep in args.dependencies)]),
            ),
        )
        self.registration: PluginRegistration = registration
        self.state = registration.state
        self.version = registration.version
        self.endpoints = service.endpoints
        self.register_outputs({"state": self.state, "version": self.version, "endpoints": self.endpoints})
