"""Request bodies the emulator accepts, validated with pydantic.

A manifest is stored exactly as posted; only the fields the Core API itself
reads are checked (`id`, `name`, `version`, and the probe paths when present).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request

from plexica_infra._validators import DnsLabel, HttpPath, PluginId, SemVer
from plexica_infra.core_api._errors import ApiError

__all__ = ["FaultSettings", "ManifestHead", "ServiceRegistrationBody", "json_body", "parse", "validation_error"]


def _endpoint(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL such as 'http://127.0.0.1:3100'")
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} must not carry a query or fragment")
    return value.rstrip("/")


Endpoint = Annotated[str, AfterValidator(_endpoint)]


class _ApiPaths(BaseModel):
    model_config = ConfigDict(extra="allow")

    liveness: HttpPath | None = None
    readiness: HttpPath | None = None
    health_check: HttpPath | None = Field(None, alias="healthCheck")


class ManifestHead(BaseModel):
    """The part of a plugin manifest the Core API reads; other fields pass through."""

    model_config = ConfigDict(extra="allow")

    id: PluginId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    version: SemVer
    api: _ApiPaths | None = None


class ServiceRegistrationBody(BaseModel):
    """`POST /api/v1/service-registry`: one service of a plugin and its endpoints (upsert)."""

    model_config = ConfigDict(extra="forbid")

    plugin_id: PluginId = Field(alias="pluginId")
    service_name: DnsLabel = Field(alias="serviceName")
    endpoints: Annotated[list[Endpoint], Field(min_length=1, max_length=64)]

    def unique_endpoints(self) -> list[str]:
        return list(dict.fromkeys(self.endpoints))


class FaultSettings(BaseModel):
    """`POST /_emulator/faults`: replaces the fault plan (all fields optional)."""

    model_config = ConfigDict(extra="forbid")

    fail_next: int = Field(0, ge=0, le=100_000, description="Answer the next N requests with `status`.")
    status: int = Field(503, ge=400, le=599, description="Status for failed requests. Default 503.")
    latency_ms: int = Field(
        0, ge=0, le=120_000, description="Delay every matching request by this much, until cleared."
    )
    drop_next: int = Field(0, ge=0, le=100_000, description="Close the next M connections without any response.")
    drop_response_next: int = Field(
        0,
        ge=0,
        le=100_000,
        description="Handle the next K requests, then close their connections instead of answering: "
        "the change is made but the client never hears of it.",
    )
    path_prefix: str | None = Field(
        None, description="Apply faults only to paths starting with this; default every path."
    )
    methods: list[Literal["GET", "POST", "PUT", "PATCH", "DELETE"]] | None = Field(
        None, description="Apply faults only to these methods (e.g. the writes); default every method."
    )
    fail_ratio: float = Field(
        0.0, ge=0.0, le=1.0, description="Answer this share of matching requests with `status`, before any effect."
    )
    drop_response_ratio: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Handle this share of matching requests, then close the connection instead of answering: "
        "the change took effect but the client never hears of it.",
    )
    seed: int | None = Field(None, description="Seed of the ratio faults' random draws, for repeatable runs.")


def validation_error(exc: ValidationError, what: str) -> ApiError:
    details = [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]} for error in exc.errors()
    ]
    summary = "; ".join(f"{detail['field'] or '<body>'}: {detail['message']}" for detail in details)
    return ApiError(400, "invalid_request", f"invalid {what}: {summary}", details=details)


def parse(model: type[BaseModel], body: Any, what: str) -> Any:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", f"invalid {what}: the body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise validation_error(exc, what) from exc


async def json_body(request: Request) -> Any:
    """The request's body as JSON; 400 invalid_json when it is not."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the request body is not JSON: {exc}") from exc
