"""Remove a plugin container whose create failed, so it neither serves nor holds resources.

Why this exists, and what the provider does on its own, is in `container.py`'s
docstring ("Rollback"). This module holds the `on_error` hook bound to every plugin
container. It runs in the Pulumi program when a container create fails (most often:
the container did not become healthy within `wait_timeout`), looks the container
up by the name the failed create used, and force-removes it, only when its labels
show it is this project's container of the same plugin and revision. It never asks
Pulumi to retry: the same spec would fail the same way, and the next `pulumi up`
replaces the failed record anyway.

Nothing from the create's inputs is logged except the container name: the inputs
hold the plugin's secret environment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pulumi

from plexica_infra.docker._engine import EngineClient, EngineError
from plexica_infra.docker.labels import MANAGED_BY_LABEL, PLUGIN_LABEL, REVISION_LABEL

__all__ = ["HOOK_NAME", "cleanup_hook", "remove_failed_container"]

HOOK_NAME = "plexica-docker-remove-failed-container"
#: The labels that must match before the hook removes anything.
_IDENTITY_LABELS = (MANAGED_BY_LABEL, PLUGIN_LABEL, REVISION_LABEL)
#: Docker's message when the name belongs to another container: that container is not
#: the one this create made, so it is left alone.
_NAME_CONFLICT = "is already in use"

Log = Callable[[str], None]


def _input_labels(inputs: Mapping[str, Any]) -> dict[str, str]:
    """The `labels` input: a list of {label, value} objects."""
    labels: dict[str, str] = {}
    for item in inputs.get("labels") or []:
        if isinstance(item, Mapping) and isinstance(item.get("label"), str) and isinstance(item.get("value"), str):
            labels[item["label"]] = item["value"]
    return labels


def remove_failed_container(
    args: pulumi.ErrorHookArgs,
    engine: Callable[[], EngineClient],
    *,
    info: Log = pulumi.log.info,
    warn: Log = pulumi.log.warn,
) -> bool:
    """Remove the container a failed create left behind. Always returns False (no retry)."""
    if args.failed_operation != "create" or not args.new_inputs:
        return False
    name = args.new_inputs.get("name")
    if not isinstance(name, str) or not name:
        warn(f"{args.name}: the failed create has no container name; check `docker ps -a` for leftovers")
        return False
    if any(_NAME_CONFLICT in error for error in args.errors):
        info(f"{args.name}: container name {name} belongs to an existing container; left it alone")
        return False
    expected = _input_labels(args.new_inputs)
    try:
        client = engine()
        found = client.inspect_container(name)
        if found is None:
            info(f"{args.name}: the failed create left no container {name} behind")
            return False
        labels = (found.get("Config") or {}).get("Labels") or {}
        mismatched = [key for key in _IDENTITY_LABELS if labels.get(key) != expected.get(key)]
        if mismatched:
            warn(
                f"{args.name}: container {name} exists but its labels ({', '.join(mismatched)}) do not match "
                "the failed create; left it alone"
            )
            return False
        container_id = str(found.get("Id", name))
        client.remove_container(container_id)
    except EngineError as exc:
        warn(
            f"{args.name}: could not remove container {name}, whose create failed ({exc}); it may still run "
            f"and answer on the plugin's network aliases: remove it with `docker rm -f {name}`"
        )
        return False
    warn(
        f"{args.name}: removed container {name} ({container_id[:12]}) because its create failed; the "
        "previous container, if any, keeps running, and the next `pulumi up` creates a new one"
    )
    return False


def cleanup_hook(host: str | None, *, name: str = HOOK_NAME) -> pulumi.ErrorHook:
    """Register the hook for the engine at `host` (None: DOCKER_HOST or the default socket).

    Call once per program, inside it: registering talks to the Pulumi engine.
    """

    async def hook(args: pulumi.ErrorHookArgs) -> bool:
        # Engine calls block; keep them off the program's event loop.
        return await asyncio.to_thread(remove_failed_container, args, lambda: EngineClient(host))

    hook.__doc__ = remove_failed_container.__doc__
    return pulumi.ErrorHook(name, hook)
