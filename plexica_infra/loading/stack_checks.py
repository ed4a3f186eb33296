"""What a stack's config says about the plugins it deploys (`validate --stack`, `pulumi up`)."""

from __future__ import annotations

from collections.abc import Sequence

from plexica_infra._validators import image_has_latest_tag, network_within, shown
from plexica_infra.config import CONFIG_NAMESPACE, StackConfig
from plexica_infra.contract import v1_manifest_problems
from plexica_infra.loading.plugin_set import LoadedPlugin
from plexica_infra.loading.problems import Problem, display_path
from plexica_infra.placement import declared_image, missing_image_message

__all__ = ["stack_problems", "stack_warnings"]


def stack_problems(stack: StackConfig, plugins: Sequence[LoadedPlugin], *, source: str) -> list[Problem]:
    """What a stack's config says about the plugins: typo'd overrides, images, the Core API's
    schema, and egress destinations outside the stack's `egressAllowed`.

    Every plugin needs an image (manifest or `plexica:plugins.<id>.image`); with
    `coreApiDialect: plexica-v1` its registration document must pass the real Core API's
    strict manifest schema, so a manifest it would refuse stops before any container starts.
    """
    problems: list[Problem] = []
    for plugin in plugins:
        display = display_path(plugin.path)
        image = declared_image(plugin.manifest, stack)
        if image is None:
            problems.append(Problem(display, "/runtime/image", missing_image_message(plugin.id)))
        elif not stack.allow_latest_tag and image_has_latest_tag(image):
            problems.append(
                Problem(
                    source,
                    f"/config/{CONFIG_NAMESPACE}:plugins/{plugin.id}/image",
                    f"image {shown(image)} uses the mutable 'latest' tag, which this stack forbids; pin a version tag",
                )
            )
        if stack.core_api_dialect == "plexica-v1":
            document = plugin.manifest.registration_document("plexica-v1")
            problems.extend(
                Problem(display, pointer, f"the plexica-v1 Core API would refuse this manifest: {message}")
                for pointer, message in v1_manifest_problems(document)
            )
    known = {plugin.id for plugin in plugins}
    problems += [
        Problem(
            source,
            f"/config/{CONFIG_NAMESPACE}:plugins/{plugin_id}",
            f"override for unknown plugin {plugin_id!r} (known: {', '.join(sorted(known))})",
        )
        for plugin_id in sorted(stack.plugins)
        if plugin_id not in known
    ]
    allowed = stack.egress_allowed
    for plugin in plugins:
        for index, rule in enumerate(plugin.manifest.deployment.egress):
            if not network_within(rule.to, allowed):
                problems.append(
                    Problem(
                        display_path(plugin.path),
                        f"/deployment/egress/{index}/to",
                        f"{rule.to} is not inside the stack's {CONFIG_NAMESPACE}:egressAllowed "
                        f"({', '.join(allowed) or 'empty: no extra egress allowed'}); ask for a destination "
                        f"inside it, or add the block to {source} after review",
                    )
                )
    return problems


def stack_warnings(stack: StackConfig, plugins: Sequence[LoadedPlugin]) -> list[str]:
    """What a deploy to this stack will not enforce, one line each."""
    if stack.target != "docker":
        return []
    return [
        f"{display_path(plugin.path)}: /deployment/egress: not enforced on a Docker stack (target: docker): "
        "containers on the plexica network can reach any address; only Kubernetes NetworkPolicies "
        "restrict egress"
        for plugin in plugins
        if plugin.manifest.deployment.egress
    ]
