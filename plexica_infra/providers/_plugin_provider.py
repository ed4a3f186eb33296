"""`PluginProvider`: what the plugin's two Core API resources share.

`PluginRecord` and `PluginRegistration` are the same plugin seen at two steps of the
deployment flow: both are replaced when `plugin_id`, `core_api_url` or `dialect`
changes, and both delete by taking the plugin back to the dialect's removed state
(the second delete of the two finds nothing left to do).
"""

from __future__ import annotations

from typing import Any, ClassVar

from plexica_infra.providers._core_api_provider import CoreApiProvider
from plexica_infra.providers._plugin_lifecycle import PluginLifecycle
from plexica_infra.providers.dialects import Dialect

__all__ = ["PluginProvider"]


def _uninstall(dialect: Dialect, plugin_id: str) -> None:
    PluginLifecycle(dialect, plugin_id).converge(None, step="delete")


class PluginProvider(CoreApiProvider):
    """The replace keys and the delete of `PluginRecordProvider` and `PluginRegistrationProvider`."""

    REPLACE_KEYS: ClassVar[frozenset[str]] = frozenset({"plugin_id", "core_api_url", "dialect"})
    #: What a delete during a Core API outage leaves behind (`{url}`: the Core API).
    LEFT_ON_OUTAGE: ClassVar[str]

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        self.remove(_id, _props, "delete", _uninstall, self.LEFT_ON_OUTAGE)
