"""Pulumi program: every plugins/<id>/plugin.json → its target's resources → the Core API lifecycle.

Thin on purpose: read the stack config once, load the manifests, and wire the
components together by passing outputs as inputs. Bad input stops the run before
any resource is touched, with one clear message and no traceback.
"""

from pathlib import Path

import pulumi

from plexica_infra.config import read_stack_config
from plexica_infra.errors import PlexicaError
from plexica_infra.lifecycle import CoreApiPlugin, CoreApiPluginArgs, PluginEndpoints
from plexica_infra.loader import require_plugins
from plexica_infra.program_gc import tune_program_gc

tune_program_gc()

PLUGINS_DIR = Path(__file__).resolve().parent / "plugins"


def deploy() -> None:
    stack, secrets = read_stack_config()
    plugins = require_plugins(PLUGINS_DIR, stack=stack, stack_file=f"Pulumi.{pulumi.get_stack()}.yaml")

    if stack.target == "docker":
        from plexica_infra.docker.program import deploy_docker

        endpoints = {
            pid: PluginEndpoints(c.instance_urls, c.registry_urls, revision=c.revision, gate=True, target=c)
            for pid, c in deploy_docker(plugins, stack, secrets).items()
        }
    else:
        from plexica_infra.k8s.program import deploy_kubernetes

        endpoints = {
            pid: PluginEndpoints(c.instance_urls, c.instance_urls, gate=False, target=c)
            for pid, c in deploy_kubernetes(plugins, stack, secrets).items()
        }

    core: dict[str, CoreApiPlugin] = {}
    for plugin in plugins if stack.registers_with_core_api else []:
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
