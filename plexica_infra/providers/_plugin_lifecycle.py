"""Drive one plugin to a lifecycle state through the Core API, idempotently, in any dialect.

`converge` reads the plugin, takes the next request on the dialect's machine towards
the goal (planned by `LifecycleMachine.path`), and repeats. Any answer that means
"someone (maybe our own earlier, retried or interrupted attempt) already did this"
converges instead of failing; the dialect turns its own way of saying so (409 in the
guide, 400 "already active" in the real Core API) into `CoreApiConflictError`:

- register answered "already registered": read the plugin and carry on from its state;
- an action answered "already / not in that state": read again and plan from there;
- an action answered 404: the plugin is gone, register it again (unless removing);
- INSTALLING / UNINSTALLING: wait (bounded) until the Core API settles it.

"Removed" is the dialect's `machine.removed` state: UNINSTALLED in the guide,
REGISTERED in the real Core API (whose DELETE keeps the row). So a run that died
after any step, or a retried POST that had in fact succeeded, is finished by the
next run.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from plexica_infra.contract import TRANSIENT_STATES, UPDATABLE_STATES, LifecycleState, Transition
from plexica_infra.providers._config import MAX_CONVERGE_STEPS
from plexica_infra.providers._exceptions import (
    CoreApiConfigError,
    CoreApiConflictError,
    CoreApiNotFoundError,
    LifecycleConvergenceError,
)
from plexica_infra.providers.dialects import Dialect, PluginView

__all__ = ["PluginLifecycle", "manifest_differs"]

_SETTLE_POLL_FIRST_SECONDS = 0.1
_SETTLE_POLL_MAX_SECONDS = 2.0


def manifest_differs(held_manifest: Any, held_version: Any, desired: Mapping[str, Any]) -> bool:
    """True when the Core API holds another version or another value for any desired field.

    Fields the Core API adds on its own do not count.
    """
    held = held_manifest if isinstance(held_manifest, Mapping) else {}
    if held_version != desired.get("version"):
        return True
    return any(held.get(key) != value for key, value in desired.items())


class PluginLifecycle:
    """The plugin requests of one Core API (through its dialect), for one plugin."""

    def __init__(self, dialect: Dialect, plugin_id: str) -> None:
        self.dialect = dialect
        self.machine = dialect.machine
        self.plugin_id = plugin_id

    def get(self, step: str = "read") -> PluginView | None:
        return self.dialect.get_plugin(self.plugin_id, step)

    def removed(self, plugin: PluginView | None) -> bool:
        """True when the plugin is not deployed: unknown, or in the dialect's removed state."""
        return plugin is None or plugin.state == self.machine.removed

    def register(self, manifest: Mapping[str, Any]) -> PluginView | None:
        try:
            return self.dialect.register(manifest)
        except CoreApiConflictError:  # it exists: carry on from whatever state it is in
            return self.get("register")

    def update(self, manifest: Mapping[str, Any]) -> PluginView | None:
        try:
            return self.dialect.update(self.plugin_id, manifest)
        except CoreApiConflictError:
            return self.get("update")
        except CoreApiNotFoundError:
            return None

    def act(self, transition: Transition) -> PluginView | None:
        try:
            return self.dialect.act(transition, self.plugin_id)
        except CoreApiConflictError:
            return self.get(transition.action.value)
        except CoreApiNotFoundError:
            return None

    def wait_settled(self, plugin: PluginView) -> PluginView | None:
        """Poll until the Core API moves the plugin out of INSTALLING / UNINSTALLING."""
        settings = self.dialect.api.settings
        deadline = time.monotonic() + settings.settle_timeout
        delay = _SETTLE_POLL_FIRST_SECONDS
        current: PluginView | None = plugin
        while current is not None and current.state in TRANSIENT_STATES:
            if time.monotonic() + delay > deadline:
                raise LifecycleConvergenceError(
                    f"{self.plugin_id}: wait: the plugin stayed {current.state} for {settings.settle_timeout:.0f} s",
                    plugin_id=self.plugin_id,
                    step="wait",
                )
            time.sleep(delay)
            delay = min(delay * 2, _SETTLE_POLL_MAX_SECONDS)
            current = self.get("wait")
        return current

    def ensure_registered(self, manifest: Mapping[str, Any]) -> PluginView:
        """Register the plugin unless the Core API knows it already (in any state)."""
        plugin = self.get("register")
        if plugin is None or plugin.state in self.machine.register_from:
            plugin = self.register(manifest)
        if plugin is None:
            raise LifecycleConvergenceError(
                f"{self.plugin_id}: register: the Core API accepted the registration but does not list the plugin",
                plugin_id=self.plugin_id,
                step="register",
            )
        return plugin

    def converge(
        self, goal: LifecycleState | None, manifest: Mapping[str, Any] | None = None, *, step: str = "read"
    ) -> PluginView | None:
        """Move the plugin to `goal` (None: removed) and return it as the Core API last reported it.

        `manifest` (needed unless removing) is registered when the plugin is unknown or
        in a state the dialect re-registers from, and hot-swapped in with
        `POST /{id}/update` when the Core API holds a different one.
        """
        if manifest is None and goal is not None:
            raise CoreApiConfigError(
                f"{self.plugin_id}: converge: a manifest is needed to reach {goal}",
                plugin_id=self.plugin_id,
                step="converge",
            )
        target = goal if goal is not None else self.machine.removed
        plugin = self.get(step)
        updated = False
        trail: list[str] = []
        for _ in range(MAX_CONVERGE_STEPS):
            trail.append(str(plugin.state) if plugin is not None else "unknown")
            if plugin is not None and plugin.state in TRANSIENT_STATES:
                plugin = self.wait_settled(plugin)
                continue
            if goal is None and self.removed(plugin):
                return plugin
            if plugin is None or plugin.state in self.machine.register_from:
                assert manifest is not None
                plugin = self.register(manifest)
                continue
            if (
                manifest is not None
                and not updated
                and plugin.state in UPDATABLE_STATES
                and manifest_differs(plugin.manifest, plugin.version, manifest)
            ):
                updated = True
                plugin = self.update(manifest)
                continue
            if plugin.state is target:
                return plugin
            try:
                transition = self.machine.path(plugin.state, target)[0]
            except ValueError as exc:
                raise LifecycleConvergenceError(
                    f"{self.plugin_id}: converge: {exc}", plugin_id=self.plugin_id, step="converge"
                ) from exc
            plugin = self.act(transition)
        raise LifecycleConvergenceError(
            f"{self.plugin_id}: converge: the plugin did not settle in {target} after "
            f"{MAX_CONVERGE_STEPS} requests (states seen: {' -> '.join(trail)}); another "
            "client may be moving it",
            plugin_id=self.plugin_id,
            step="converge",
        )
