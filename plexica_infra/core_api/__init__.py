"""Core API emulator: the embedded default Core API of the `local` stack.

Run it with `python -m plexica_infra.core_api --db PATH [--host H] [--port P]`
and the admin token in PLEXICA_CORE_API_TOKEN (or `--token`). The lifecycle
machine (`LifecycleState`, `TRANSITIONS`) is the deployment guide's and is shared
with the providers in `plexica_infra.providers`.

Names are imported on first use, so the providers (which need only the
lifecycle table) and the CLI's argument errors do not pay for Starlette,
uvicorn and pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from plexica_infra.contract import (
        STEADY_STATES,
        TOKEN_ENV_VAR,
        TRANSIENT_STATES,
        TRANSITIONS,
        UPDATABLE_STATES,
        LifecycleAction,
        LifecycleState,
        Transition,
        action_path,
        allowed_transitions,
    )
    from plexica_infra.core_api._app import create_app
    from plexica_infra.core_api._cli import DEFAULT_PORT, main
    from plexica_infra.core_api._gateway import GATEWAY_TIMEOUT_SECONDS
    from plexica_infra.core_api._health import (
        DEFAULT_LIVENESS_PATH,
        DEFAULT_READINESS_PATH,
        HEALTH_PROBE_ATTEMPTS,
        HEALTH_PROBE_INTERVAL_SECONDS,
        HEALTH_PROBE_TIMEOUT_SECONDS,
        probe_paths,
    )
    from plexica_infra.core_api._models import FaultSettings
    from plexica_infra.core_api._records import PluginRecord, ServiceRecord
    from plexica_infra.core_api._store import Store

_HOMES = {
    "_app": ["create_app"],
    "_gateway": ["GATEWAY_TIMEOUT_SECONDS"],
    "_cli": ["DEFAULT_PORT", "main"],
    "_health": [
        "DEFAULT_LIVENESS_PATH",
        "DEFAULT_READINESS_PATH",
        "HEALTH_PROBE_ATTEMPTS",
        "HEALTH_PROBE_INTERVAL_SECONDS",
        "HEALTH_PROBE_TIMEOUT_SECONDS",
        "probe_paths",
    ],
    "plexica_infra.contract": [
        "STEADY_STATES",
        "TOKEN_ENV_VAR",
        "TRANSIENT_STATES",
        "TRANSITIONS",
        "UPDATABLE_STATES",
        "LifecycleAction",
        "LifecycleState",
        "Transition",
        "action_path",
        "allowed_transitions",
    ],
    "_models": ["FaultSettings"],
    "_records": ["PluginRecord", "ServiceRecord"],
    "_store": ["Store"],
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "DEFAULT_LIVENESS_PATH",
    "DEFAULT_PORT",
    "DEFAULT_READINESS_PATH",
    "GATEWAY_TIMEOUT_SECONDS",
    "HEALTH_PROBE_ATTEMPTS",
    "HEALTH_PROBE_INTERVAL_SECONDS",
    "HEALTH_PROBE_TIMEOUT_SECONDS",
    "STEADY_STATES",
    "TOKEN_ENV_VAR",
    "TRANSIENT_STATES",
    "TRANSITIONS",
    "UPDATABLE_STATES",
    "FaultSettings",
    "LifecycleAction",
    "LifecycleState",
    "PluginRecord",
    "ServiceRecord",
    "Store",
    "Transition",
    "action_path",
    "allowed_transitions",
    "create_app",
    "main",
    "probe_paths",
]


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = module if module.startswith("plexica_infra.") else f"{__name__}.{module}"
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
