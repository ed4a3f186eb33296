"""Pulumi program: every plugins/<id>/plugin.json → its target's resources → the Core API lifecycle.

Thin on purpose: read the stack config once, load the manifests, let the stack's target
deploy them, and register what it exposes with the Core API. Bad input stops the run
before any resource is touched, with one clear message and no traceback.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path

import pulumi

from plexica_infra.config import StackConfig, StackSecrets, read_stack_config
from plexica_infra.errors import PlexicaError
from plexica_infra.lifecycle import CoreApiPlugin, CoreApiPluginArgs
from plexica_infra.loader import LoadedPlugin, require_plugins
from plexica_infra.target import PluginEndpoints, target_for

PLUGINS_DIR = Path(__file__).resolve().parent / "plugins"


def register_plugins(
    plugins: Sequence[LoadedPlugin],
    stack: StackConfig,
    secrets: StackSecrets,
    endpoints: Mapping[str, PluginEndpoints],
) -> dict[str, CoreApiPlugin]:
    """One `plexica:core:Plugin` per plugin, each after the plugins it depends on."""
    core: dict[str, CoreApiPlugin] = {}
    for plugin in plugins:
        core[plugin.id] = CoreApiPlugin(
            plugin.id,
            CoreApiPluginArgs(
                manifest=plugin.manifest,
                stack=stack,
                secrets=secrets,
                endpoints=endpoints[plugin.id],
                dependencies=[core[dep] for dep in plugin.manifest.dependency_ids],
            ),
        )
    return core


def deploy() -> None:
    stack, secrets = read_stack_config()
    plugins = require_plugins(PLUGINS_DIR, stack=stack, stack_file=f"Pulumi.{pulumi.get_stack()}.yaml")
    endpoints = target_for(stack).deploy(plugins, stack, secrets)
    core = register_plugins(plugins, stack, secrets, endpoints) if stack.registers_with_core_api else {}

    pulumi.export("coreApiUrl", stack.core_api_url)
    pulumi.export("gateway", {pid: f"{stack.core_api_url}/api/plugins/{pid}" for pid in core})
    pulumi.export(
        "plugins",
        {pid: {"version": c.version, "state": c.state, "endpoints": c.endpoints} for pid, c in core.items()},
    )


try:
    deploy()
except PlexicaError as exc:
    raise pulumi.RunError(str(exc)) from None
