"""`StackConfig`: every non-secret `plexica:*` key of a stack, validated once.

The target settings (`docker`, `kubernetes`) and the health gate's (`health`) are
sections of it, each in its own module of this package: the targets import these
models, never the other way round.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from plexica_infra._validators import (
    DnsLabel,
    EgressAllowed,
    ImageReference,
    PluginId,
    is_local_host,
    shown,
    unsafe_character,
)
from plexica_infra.config.docker import DockerSettings
from plexica_infra.config.health import HealthSettings
from plexica_infra.config.kubernetes import KubernetesSettings

__all__ = ["LogLevel", "NodeEnv", "PluginOverride", "StackConfig", "TargetName"]

LogLevel = Literal["fatal", "error", "warn", "info", "debug", "trace"]
NodeEnv = Literal["production", "development", "test"]
TargetName = Literal["docker", "kubernetes"]


class PluginOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    replicas: int | None = Field(None, ge=1, le=100, description="Overrides the manifest's replicas.")
    enabled: bool = Field(
        True, description="false keeps the plugin deployed but DISABLED in the Core API. Default true."
    )
    image: ImageReference | None = Field(
        None, description="The plugin's image when its manifest names none (real Plexica manifests don't)."
    )


def _json_object(value: Any) -> Any:
    """Pulumi hands structured config to the program as JSON text."""
    if isinstance(value, str) and value.strip().startswith(("{", "[")):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise ValueError("is not accepted: its JSON is nested too deep") from None
        except ValueError as exc:  # integers beyond Python's 4300-digit conversion limit
            raise ValueError(f"is not accepted: {exc}") from None
    return value


class StackConfig(BaseModel):
    """Every non-secret `plexica:*` key of a stack."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    target: TargetName = Field(description="Where plugins run: 'docker' (dev, local) or 'kubernetes' (prod).")
    namespace: DnsLabel = Field("plexica", description="Kubernetes namespace / Docker name prefix scope.")
    core_api_url: str = Field(alias="coreApiUrl", description="Core API base URL, e.g. http://core-api:3000.")
    core_api_insecure_skip_tls_verify: bool = Field(
        False,
        alias="coreApiInsecureSkipTlsVerify",
        description="Skip TLS verification; allowed only for a local Core API URL. Default false.",
    )
    core_api_insecure_plaintext_http: bool = Field(
        False,
        alias="coreApiInsecurePlaintextHttp",
        description="Accept an http:// coreApiUrl on a host other than this one: the super-admin token then "
        "crosses the network in cleartext. Default false: a non-loopback Core API needs https://.",
    )
    egress_allowed: list[EgressAllowed] = Field(
        default_factory=list,
        alias="egressAllowed",
        max_length=256,
        description="CIDR blocks a manifest's deployment.egress may name (each rule must lie inside one). "
        "Default empty: no manifest may open egress beyond the platform's services. 0.0.0.0/0, ::/0, "
        "loopback, link-local and metadata ranges are refused here too.",
    )
    core_api_dialect: Literal["guide", "plexica-v1"] = Field(
        "guide",
        alias="coreApiDialect",
        description="The Core API's contract: 'guide' (the deployment guide's, our emulator's default) or "
        "'plexica-v1' (the real apps/core-api). Default guide.",
    )
    core_api_auth: Literal["static", "client-credentials"] = Field(
        "static",
        alias="coreApiAuth",
        description="'static': the secret plexica:coreApiToken. 'client-credentials': OAuth2 tokens from "
        "coreApiTokenUrl for coreApiClientId with the secret plexica:coreApiClientSecret. Default static.",
    )
    core_api_token_url: str | None = Field(
        None,
        alias="coreApiTokenUrl",
        description="OAuth2 token endpoint, e.g. https://keycloak/realms/master/protocol/openid-connect/token.",
    )
    core_api_client_id: str | None = Field(
        None, alias="coreApiClientId", description="OAuth2 client id (a client with the super_admin role)."
    )
    core_api_tenant_slug: DnsLabel = Field(
        "global",
        alias="coreApiTenantSlug",
        description="X-Tenant-Slug of the plexica-v1 service registry. Default 'global', the tenant the real "
        "Core API registers manifest services under.",
    )
    plugin_core_api_url: str | None = Field(
        None,
        alias="pluginCoreApiUrl",
        description="CORE_API_URL as plugins see it, when it differs from coreApiUrl. Default: coreApiUrl.",
    )
    kafka_brokers: str = Field(alias="kafkaBrokers", max_length=4096, description="Comma-separated Redpanda brokers.")
    image_registry: str | None = Field(
        None,
        alias="imageRegistry",
        max_length=255,
        description="Registry that replaces the one in every manifest image (mirrors, air-gapped clusters).",
    )
    allow_latest_tag: bool = Field(
        True, alias="allowLatestTag", description="Accept images tagged only ':latest'. Set false in prod."
    )
    log_level: LogLevel = Field("info", alias="logLevel", description="LOG_LEVEL for plugins. Default info.")
    node_env: NodeEnv = Field("production", alias="nodeEnv", description="NODE_ENV for plugins.")
    default_replicas: int | None = Field(
        None,
        alias="defaultReplicas",
        ge=1,
        le=100,
        description="Replicas when neither manifest nor override says. Default: 1 on Docker (the guide's "
        "compose), 2 on Kubernetes (the guide's Deployment and HPA minimum).",
    )
    plugins: dict[PluginId, PluginOverride] = Field(
        default_factory=dict, description="Per-plugin overrides: replicas, enabled."
    )
    health: HealthSettings = Field(default_factory=HealthSettings)
    docker: DockerSettings = Field(default_factory=DockerSettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)

    _objects = field_validator("plugins", "health", "docker", "kubernetes", "egress_allowed", mode="before")(
        lambda value: _json_object(value)
    )

    @field_validator("kafka_brokers", "image_registry", "core_api_client_id")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and (found := unsafe_character(value)) is not None:
            raise ValueError(f"contains {found}; control, bidi and invisible characters are not accepted")
        return value

    @field_validator("core_api_url", "plugin_core_api_url", "core_api_token_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if len(value) > 2048 or unsafe_character(value) is not None or any(c.isspace() for c in value):
            raise ValueError("is not a URL: it holds whitespace or control characters, or is over 2048 characters")
        parsed = urlparse(value)
        if "@" in parsed.netloc:
            raise ValueError("must not carry credentials (user:password@); the token goes in plexica:coreApiToken")
        if parsed.query or parsed.fragment or parsed.params or value.endswith(("?", "#", ";")):
            raise ValueError(
                "must not carry a query string or fragment (a '?token=' in a URL ends up in logs and state); "
                "the token goes in plexica:coreApiToken"
            )
        try:
            parsed.port  # noqa: B018  (raises on a malformed port)
        except ValueError:
            raise ValueError(f"{shown(value)} has an invalid port; expected 1-65535") from None
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"{shown(value)} is not an http(s) URL, e.g. 'https://core-api.example.com'")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _client_credentials_complete(self) -> StackConfig:
        if self.core_api_auth == "client-credentials":
            missing = [
                key
                for key, value in (
                    ("coreApiTokenUrl", self.core_api_token_url),
                    ("coreApiClientId", self.core_api_client_id),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    f"coreApiAuth is client-credentials but {' and '.join(missing)} "
                    f"{'is' if len(missing) == 1 else 'are'} not set"
                )
        return self

    @model_validator(mode="after")
    def _transport_security(self) -> StackConfig:
        parsed = urlparse(self.core_api_url)
        host = parsed.hostname or ""
        local = is_local_host(host, localhost_subdomains=False)
        if self.core_api_insecure_skip_tls_verify and not local:
            raise ValueError(
                f"coreApiInsecureSkipTlsVerify is true but coreApiUrl host {host!r} is not local; TLS "
                "verification can only be turned off for 127.0.0.1, ::1 or localhost"
            )
        for key, url in (("coreApiUrl", self.core_api_url), ("coreApiTokenUrl", self.core_api_token_url)):
            target = urlparse(url or "")
            remote = not is_local_host(target.hostname or "", localhost_subdomains=False)
            if target.scheme == "http" and remote and not self.core_api_insecure_plaintext_http:
                raise ValueError(
                    f"{key} {url!r} is plain http:// to a host other than this one, so the super-admin "
                    "credentials would cross the network in cleartext; use https://, or accept the risk "
                    "explicitly with plexica:coreApiInsecurePlaintextHttp: true"
                )
        return self

    @property
    def replicas_default(self) -> int:
        if self.default_replicas is not None:
            return self.default_replicas
        return 1 if self.target == "docker" else 2

    @property
    def registers_with_core_api(self) -> bool:
        """False for a render-only Kubernetes stack: it applies nothing, so it registers nothing."""
        return not (self.target == "kubernetes" and self.kubernetes.render_yaml_to)

    @property
    def core_api_url_for_plugins(self) -> str:
        return self.plugin_core_api_url or self.core_api_url
