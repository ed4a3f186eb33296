"""Wire models of both dialects: what each Core API answers, and the bodies we send it.

Every answer is validated into one of these before it is used (`extra="allow"`:
fields a Core API adds later are kept, fields we rely on are required). The
emulator builds its answers from the same models, so the two sides cannot drift.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from plexica_infra.contract._lifecycle import LifecycleState

__all__ = [
    "V1_INSTANCES_KEY",
    "GuideErrorBody",
    "GuidePlugin",
    "GuidePluginList",
    "GuideService",
    "GuideServiceList",
    "GuideServiceRegistration",
    "TokenAnswer",
    "V1ErrorBody",
    "V1ErrorDetail",
    "V1Plugin",
    "V1PluginList",
    "V1Service",
    "V1ServiceEndpoint",
    "V1ServiceList",
    "V1ServiceRegistered",
    "V1ServiceRegistration",
    "V1Success",
    "WireModel",
    "error_fields",
]

#: Where plexica-v1 keeps every instance URL of a service: the real registry holds one
#: `baseUrl` per service, and a plugin may run several instances. Our key, in the
#: service's free-form `metadata`.
V1_INSTANCES_KEY = "instances"


class WireModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


# guide ---------------------------------------------------------------------------------------


class GuidePlugin(WireModel):
    id: str
    name: str
    version: str
    state: LifecycleState
    manifest: dict[str, Any]
    created_at: str | None = Field(None, alias="createdAt")
    updated_at: str | None = Field(None, alias="updatedAt")


class GuidePluginList(WireModel):
    plugins: list[GuidePlugin]


class GuideService(WireModel):
    plugin_id: str = Field(alias="pluginId")
    service_name: str = Field(alias="serviceName")
    endpoints: list[str]
    created_at: str | None = Field(None, alias="createdAt")
    updated_at: str | None = Field(None, alias="updatedAt")


class GuideServiceList(WireModel):
    services: list[GuideService]


class GuideServiceRegistration(WireModel):
    """`POST /api/v1/service-registry` as we send it (the emulator checks it more strictly)."""

    plugin_id: str = Field(alias="pluginId")
    service_name: str = Field(alias="serviceName")
    endpoints: list[str]


class GuideErrorBody(WireModel):
    error: str
    message: str


# plexica-v1 ----------------------------------------------------------------------------------


class V1Plugin(WireModel):
    """A row of the real `Plugin` table (prisma), as `GET /api/v1/plugins` lists it."""

    id: str
    name: str
    version: str
    lifecycle_status: LifecycleState = Field(alias="lifecycleStatus")
    manifest: dict[str, Any]
    status: str | None = None
    created_at: str | None = Field(None, alias="createdAt")
    updated_at: str | None = Field(None, alias="updatedAt")


class V1PluginList(WireModel):
    plugins: list[V1Plugin]
    total: int


class V1ErrorDetail(WireModel):
    code: str
    message: str


class V1ErrorBody(WireModel):
    error: V1ErrorDetail


class V1Success(WireModel):
    success: bool


class V1ServiceEndpoint(WireModel):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    description: str | None = None


class V1ServiceRegistration(WireModel):
    """`POST /api/plugin-gateway/services/register`; `version` is required there."""

    plugin_id: str = Field(alias="pluginId")
    service_name: str = Field(alias="serviceName")
    version: str
    base_url: str | None = Field(None, alias="baseUrl")
    endpoints: list[V1ServiceEndpoint] | None = None
    metadata: dict[str, Any] | None = None


class V1Service(WireModel):
    plugin_id: str = Field(alias="pluginId")
    service_name: str = Field(alias="serviceName")
    version: str
    base_url: str | None = Field(None, alias="baseUrl")
    endpoints: list[V1ServiceEndpoint] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    status: str | None = None
    last_seen_at: str | None = Field(None, alias="lastSeenAt")

    def instance_urls(self) -> list[str]:
        """Every instance URL: `metadata.instances` when we wrote it, else `baseUrl`."""
        instances = self.metadata.get(V1_INSTANCES_KEY)
        if isinstance(instances, list) and instances and all(isinstance(url, str) for url in instances):
            return list(instances)
        return [self.base_url] if self.base_url else []


class V1ServiceList(WireModel):
    services: list[V1Service]
    count: int


class V1ServiceRegistered(WireModel):
    success: bool
    service_id: str = Field(alias="serviceId")


# auth ----------------------------------------------------------------------------------------


class TokenAnswer(WireModel):
    """An OAuth2 token endpoint's answer to the client-credentials grant (RFC 6749 §5.1)."""

    access_token: str = Field(min_length=1, repr=False)
    token_type: str
    expires_in: int = Field(ge=1)


def error_fields(body: Any) -> tuple[str, str]:
    """(code, message) of an error answer in any shape either Core API uses.

    guide `{"error": code, "message": text}`; plexica-v1 `{"error": {"code", "message"}}`;
    Fastify's route-not-found `{"message", "error": "Not Found", "statusCode"}`; the real
    service registry's `{"error": text[, "message": text]}`.
    """
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    message = body.get("message")
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        return (code if isinstance(code, str) else ""), (message if isinstance(message, str) else "")
    code = error if isinstance(error, str) else ""
    if not isinstance(message, str) or not message:
        message = code
    return code, message
