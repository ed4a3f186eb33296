"""Drive one plugin to a lifecycle state through the Core API, idempotently.

`converge` reads the plugin, takes the next request on the guide's machine
towards the goal (planned by `action_path` over the shared `TRANSITIONS`), and
repeats. Any answer that means "someone (maybe our own earlier, retried or
interrupted attempt) already did this" converges instead of failing:

- register answered 409 `plugin_exists`: read the plugin and carry on from its state;
- an action answered 409: read the plugin again and plan from the state it is in;
- an action answered 404: the plugin is gone, register it again (unless deleting);
- INSTALLING / UNINSTALLING: wait (bounded) until the Core API settles it.

So a run that died after any step, or a retried POST that had in fact
succeeded, is finished by the next run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from plexica_infra.core_api import (
    TRANSIENT_STATES,
    UPDATABLE_STATES,
    LifecycleState,
    Transition,
    action_path,
)
from plexica_infra.providers._config import MAX_CONVERGE_STEPS
from plexica_infra.providers._exceptions import (
    CoreApiConfigError,
    CoreApiConflictError,
    CoreApiNotFoundError,
    LifecycleConvergenceError,
)
from plexica_infra.providers._transport import CoreApiClient

__all__ = ["PLUGINS_PATH", "PluginLifecycle", "manifest_differs", "observed_state"]

PLUGINS_PATH = "/api/v1/plugins"
_SETTLE_POLL_FIRST_SECONDS = 0.1
_SETTLE_POLL_MAX_SECONDS = 2.0

Plugin = dict[str, Any]


def observed_state(plugin: Mapping[str, Any] | None) -> LifecycleState | None:
    """The plugin's lifecycle state as the Core API reported it; None when it is unknown there."""
    if plugin is None:
        return None
    return LifecycleState(str(plugin["state"]))


def manifest_differs(plugin: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """True when the Core API holds another version or another value for any desired field.

    Fields the Core API adds on its own do not count.
    """
    held = plugin.get("manifest")
    held = held if isinstance(held, Mapping) else {}
    if plugin.get("version") != desired.get("version"):
        return True
    return any(held.get(key) != value for key, value in desired.items())


class PluginLifecycle:
    """The plugin endpoints of one Core API, for one plugin."""

    def __init__(self, api: CoreApiClient, plugin_id: str) -> None:
        self.api = api
        self.plugin_id = plugin_id
        self.path = f"{PLUGINS_PATH}/{plugin_id}"

    def get(self, step: str = "read") -> Plugin | None:
        try:
            return self.api.json("GET", self.path, step=step)
        except CoreApiNotFoundError:
            return None

    def register(self, manifest: Mapping[str, Any]) -> Plugin | None:
        try:
            return self.api.json("POST", PLUGINS_PATH, step="register", json_body=dict(manifest))
        except CoreApiConflictError:  # it exists: carry on from whatever state it is in
            return self.get("register")

    def update(self, manifest: Mapping[str, Any]) -> Plugin | None:
        try:
            return self.api.json("POST", f"{self.path}/update", step="update", json_body=dict(manifest), lifecycle=True)
        except CoreApiConflictError:
            return self.get("update")
        except CoreApiNotFoundError:
            return None

    def act(self, transition: Transition) -> Plugin | None:
        step = transition.action.value
        try:
            return self.api.json(
                transition.method,
                transition.path.format(id=self.plugin_id),
                step=step,
                lifecycle=transition.target in TRANSIENT_STATES,
            )
        except CoreApiConflictError:
            return self.get(step)
        except CoreApiNotFoundError:
            return None

    def wait_settled(self, plugin: Plugin) -> Plugin | None:
        """Poll until the Core API moves the plugin out of INSTALLING / UNINSTALLING."""
        deadline = time.monotonic() + self.api.settings.settle_timeout
        delay = _SETTLE_POLL_FIRST_SECONDS
        current: Plugin | None = plugin
        while observed_state(current) in TRANSIENT_STATES:
            if time.monotonic() + delay > deadline:
                raise LifecycleConvergenceError(
                    f"{self.plugin_id}: wait: the plugin stayed {observed_state(current)} for "
                    f"{self.api.settings.settle_timeout:.0f} s",
                    plugin_id=self.plugin_id,
                    step="wait",
                )
            time.sleep(delay)
            delay = min(delay * 2, _SETTLE_POLL_MAX_SECONDS)
            current = self.get("wait")
        return current

    def converge(self, goal: LifecycleState, manifest: Mapping[str, Any] | None = None) -> Plugin | None:
        """Move the plugin to `goal` and return it as the Core API last reported it.

        `manifest` (needed unless `goal` is UNINSTALLED) is registered when the
        plugin is unknown or UNINSTALLED, and hot-swapped in with
        `POST /{id}/update` when the Core API holds a different one. Returns
        None when deleting a plugin the Core API does not know.
        """
        if manifest is None and goal is not LifecycleState.UNINSTALLED:
            raise CoreApiConfigError(
                f"{self.plugin_id}: converge: a manifest is needed to reach {goal}",
                plugin_id=self.plugin_id,
                step="converge",
            )
        plugin = self.get()
        updated = False
        trail: list[str] = []
        for _ in range(MAX_CONVERGE_STEPS):
            state = observed_state(plugin)
            trail.append(str(state))
            if plugin is not None and state in TRANSIENT_STATES:
                plugin = self.wait_settled(plugin)
                continue
            if state is None or state is LifecycleState.UNINSTALLED:
                if goal is LifecycleState.UNINSTALLED:
                    return plugin
                assert manifest is not None
                plugin = self.register(manifest)
                continue
            assert plugin is not None
            if (
                manifest is not None
                and goal is not LifecycleState.UNINSTALLED
                and not updated
                and state in UPDATABLE_STATES
                and manifest_differs(plugin, manifest)
            ):
                updated = True
                plugin = self.update(manifest)
                continue
            if state is goal:
                return plugin
            plugin = self.act(action_path(state, goal)[0])
        raise LifecycleConvergenceError(
            f"{self.plugin_id}: converge: the plugin did not settle in {goal} after "
            f"{MAX_CONVERGE_STEPS} requests (states seen: {' -> '.join(trail)}); another "
            "client may be moving it",
            plugin_id=self.plugin_id,
            step="converge",
        )
