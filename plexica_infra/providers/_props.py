"""Property bags as the engine hands them to a provider: secrets, unknowns, numbers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.runtime.rpc import UNKNOWN, unwrap_rpc_secret

__all__ = ["PROVIDER_KEY", "SECRET_KEYS", "contains_unknown", "plain"]

#: The property holding the pickled provider; never an input of ours, never diffed.
PROVIDER_KEY = "__provider"
#: Secret inputs: sent to the provider as secrets, never diffed, never in outputs.
SECRET_KEYS = frozenset({"token", "client_secret"})


def plain(value: Any) -> Any:
    """`value` with Pulumi's wrapped secrets unwrapped, at any depth.

    Pulumi carries every number as a float; whole numbers become ints again, so the
    Core API receives the manifest as written (`"port": 3100`, not `3100.0`).
    """
    value = unwrap_rpc_secret(value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def contains_unknown(value: Any) -> bool:
    """True when a preview left any part of `value` unknown."""
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, Mapping):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(item) for item in value)
    return False
