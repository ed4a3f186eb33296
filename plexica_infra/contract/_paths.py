"""Paths, headers and environment variables of the Core API contract, in one place.

`guide` is the contract the deployment guide documents (our emulator's default);
`plexica-v1` is the real `apps/core-api` (see `plexica_infra.providers.dialects.plexica_v1`
for the files each path was read from).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

__all__ = [
    "CLIENT_SECRET_ENV_VAR",
    "DEFAULT_DIALECT",
    "DEFAULT_LIVENESS_PATH",
    "DEFAULT_READINESS_PATH",
    "DEFAULT_TENANT_SLUG",
    "DIALECTS",
    "GUIDE_SERVICE_REGISTRY_PATH",
    "PLUGINS_PATH",
    "TENANT_HEADER",
    "TOKEN_ENV_VAR",
    "V1_LEGACY_PLUGIN_PATH",
    "V1_SERVICES_PATH",
    "V1_SERVICE_REGISTER_PATH",
    "DialectName",
    "plugin_path",
    "segment",
]

DialectName = Literal["guide", "plexica-v1"]
DIALECTS: tuple[DialectName, ...] = ("guide", "plexica-v1")
DEFAULT_DIALECT: DialectName = "guide"

#: The admin bearer token, for the emulator and as the providers' last fallback
#: (after the resource input and the stack config). The one definition.
TOKEN_ENV_VAR = "PLEXICA_CORE_API_TOKEN"
#: The OAuth2 client secret of client-credentials auth, same fallback order.
CLIENT_SECRET_ENV_VAR = "PLEXICA_CORE_API_CLIENT_SECRET"

#: A plugin's probe paths when its manifest names none (the guide's MUST-implement ones).
DEFAULT_LIVENESS_PATH = "/health/live"
DEFAULT_READINESS_PATH = "/health/ready"

#: Both dialects: register (POST), list (GET); `/{id}`, `/{id}/install|enable|disable|update`.
PLUGINS_PATH = "/api/v1/plugins"

# guide ---------------------------------------------------------------------------------------
#: POST (upsert); GET `/services?pluginId=`; DELETE `/{pluginId}/{serviceName}`.
GUIDE_SERVICE_REGISTRY_PATH = "/api/v1/service-registry"

# plexica-v1 ----------------------------------------------------------------------------------
#: There is no `GET /api/v1/plugins/{id}`: one plugin is read here (the earlier, tenant-less API).
V1_LEGACY_PLUGIN_PATH = "/api/plugins"
V1_SERVICE_REGISTER_PATH = "/api/plugin-gateway/services/register"
#: GET `?pluginId=` lists; DELETE `/{pluginId}/{serviceName}` removes.
V1_SERVICES_PATH = "/api/plugin-gateway/services"
#: The service registry is per tenant; without this header it answers 401.
TENANT_HEADER = "X-Tenant-Slug"
#: The real Core API's registration registers manifest services under tenant "global".
DEFAULT_TENANT_SLUG = "global"


def segment(value: str) -> str:
    """One path segment, percent-encoded (a `/` in an id never changes the route)."""
    return quote(value, safe="")


def plugin_path(plugin_id: str, action: str = "") -> str:
    base = f"{PLUGINS_PATH}/{segment(plugin_id)}"
    return f"{base}/{action}" if action else base
