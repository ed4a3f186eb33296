"""Typed stack config: every `plexica:*` key, read once.

Non-secret keys are validated into the frozen `StackConfig` model. The four
secrets (`coreApiToken`, `databaseUrl`, `redisUrl`, `jwtSecret`) never enter that
model: they are read only with `require_secret` and stay secret Outputs
(`StackSecrets`) all the way to the resources that use them.

Keys are flat camelCase (`plexica:coreApiUrl`, not `plexica:coreApi.url`) so a
secret never shares a config object with plain values; an object holding one
secure value would turn the whole object secret.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from plexica_infra._validators import (
    DnsLabel,
    EgressAllowed,
    ImageReference,
    PluginId,
    is_local_host,
    shown,
    unsafe_character,
)
from plexica_infra.docker.settings import DockerSettings
from plexica_infra.errors import StackConfigError
from plexica_infra.k8s.settings import KubernetesSettings

if TYPE_CHECKING:
    import pulumi

__all__ = [
    "CONFIG_NAMESPACE",
    "SECRET_KEYS",
    "HealthSettings",
    "PluginOverride",
    "StackConfig",
    "StackSecrets",
    "read_stack_config",
    "secret_set_command",
    "stack_config_from_mapping",
    "stack_file_values",
]

CONFIG_NAMESPACE = "plexica"

#: Secret keys, each with an example used in error messages.
SECRET_KEYS: dict[str, str] = {
    "coreApiToken": "<super-admin token>",
    "coreApiClientSecret": "<OAuth2 client secret>",
    "databaseUrl": "postgresql://plexica:<password>@postgres:5432/plexica",
    "redisUrl": "redis://redis:6379",
    "jwtSecret": "<jwt signing secret>",
}

LogLevel = Literal["fatal", "error", "warn", "info", "debug", "trace"]
NodeEnv = Literal["production", "development", "test"]
Target = Literal["docker", "kubernetes"]


class PluginOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    replicas: int | None = Field(None, ge=1, le=100, description="Overrides the manifest's replicas.")
    enabled: bool = Field(
        True, description="false keeps the plugin deployed but DISABLED in the Core API. Default true."
    )
    image: ImageReference | None = Field(
        None, description="The plugin's image when its manifest names none (real Plexica manifests don't)."
    )


class HealthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    live_budget_ms: int = Field(
        100,
        alias="liveBudgetMs",
        ge=1,
        le=60_000,
        description="p95 budget for /health/live, 1-60000 ms. Default 100 ms (the guide).",
    )
    ready_budget_ms: int = Field(
        200,
        alias="readyBudgetMs",
        ge=1,
        le=60_000,
        description="p95 budget for /health/ready, 1-60000 ms. Default 200 ms (the guide).",
    )
    deadline_seconds: int = Field(
        180, alias="deadlineSeconds", ge=5, le=3600, description="Health gate deadline. Default 180 s."
    )
    start_period_seconds: int = Field(
        40,
        alias="startPeriodSeconds",
        ge=0,
        le=3600,
        description="Grace period before failures count, 0-3600 s. Default 40 s.",
    )
    failure_threshold: int = Field(
        3,
        alias="failureThreshold",
        ge=1,
        le=100,
        description="Consecutive failures that fail the gate, 1-100. Default 3.",
    )
    latency_samples: int = Field(
        20,
        alias="latencySamples",
        ge=5,
        le=500,
        description="Probes timed per endpoint for the p95. Default 20: with fewer, p95 is the single slowest "
        "probe and one scheduling hiccup on a busy host would fail a healthy rollout.",
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

    target: Target = Field(description="Where plugins run: 'docker' (dev, local) or 'kubernetes' (prod).")
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


_ALIASES = {(field.alias or name): name for name, field in StackConfig.model_fields.items()}


def stack_file_values(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `plexica:*` values of a stack file (prefix stripped): (plain keys, secret keys).

    Secret values are returned as stored (`{secure: ...}` when encrypted); only Pulumi can
    decrypt them. Raises StackConfigError when the file cannot be read or has no config.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise StackConfigError(f"{path.name}: cannot read stack file: {exc}") from None
    except RecursionError:
        raise StackConfigError(f"{path.name}: cannot read stack file: it is nested too deep") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackConfigError(f"{path.name}: /config: stack file has no 'config' mapping")
    prefix = f"{CONFIG_NAMESPACE}:"
    plain: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for key, value in config.items():
        if str(key).startswith(prefix):
            name = str(key).removeprefix(prefix)
            (secret if name in SECRET_KEYS else plain)[name] = value
    return plain, secret


def stack_config_from_mapping(values: Mapping[str, Any], *, source: str) -> StackConfig:
    """Validate `plexica:*` values (namespace prefix stripped); secrets must not be in `values`.

    Raises StackConfigError listing every bad key, each with a `pulumi config set` example.
    """
    problems: list[str] = []
    unknown = [key for key in values if key not in _ALIASES and key not in SECRET_KEYS]
    for key in unknown:
        close = difflib.get_close_matches(key, [*_ALIASES, *SECRET_KEYS], n=1)
        hint = f"; did you mean '{CONFIG_NAMESPACE}:{close[0]}'?" if close else ""
        problems.append(f"{source}: {CONFIG_NAMESPACE}:{key}: unknown config key{hint}")
    known = {key: value for key, value in values.items() if key in _ALIASES}
    try:
        config = StackConfig.model_validate(known)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(part) for part in error["loc"]]
            key = f"{CONFIG_NAMESPACE}:{loc[0]}" if loc else CONFIG_NAMESPACE
            path = ".".join(loc[1:])
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "missing":
                message = "is required"
            elif error["type"] == "extra_forbidden":
                message = "unknown setting"
            example = _example(loc[0]) if loc else ""
            where = f"{key}{'.' + path if path else ''}"
            problems.append(f"{source}: {where}: {message}{example}")
        raise StackConfigError("\n".join(problems)) from None
    if problems:
        raise StackConfigError("\n".join(problems))
    return config


_EXAMPLES = {
    "target": "docker",
    "coreApiUrl": "http://core-api:3000",
    "kafkaBrokers": "redpanda:29092",
    "namespace": "plexica",
}


def _example(key: str) -> str:
    value = _EXAMPLES.get(key)
    if value is None:
        return ""
    return f" (set it with: pulumi config set {CONFIG_NAMESPACE}:{key} {value})"


def secret_set_command(stack: str | None, key: str) -> str:
    """How to set a secret without it landing in shell history or `/proc/*/cmdline`:
    Pulumi prompts for the value (or reads it from stdin), never from an argument."""
    where = f" --stack {stack}" if stack else ""
    return (
        f"pulumi config set --secret{where} {CONFIG_NAMESPACE}:{key}, then type the value at the prompt "
        f"(or pipe it: ... < file); never put it on the command line"
    )


@dataclass(frozen=True)
class StackSecrets:
    """Secret stack values; always pulumi secret Outputs, never plain strings."""

    #: The static token (coreApiAuth static), else None.
    core_api_token: pulumi.Output[str] | None
    database_url: pulumi.Output[str]
    redis_url: pulumi.Output[str]
    jwt_secret: pulumi.Output[str]
    #: The OAuth2 client secret (coreApiAuth client-credentials), else None.
    core_api_client_secret: pulumi.Output[str] | None = None


def read_stack_config() -> tuple[StackConfig, StackSecrets]:
    """Read every `plexica:*` key of the running stack once. Call only inside a Pulumi program."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    prefix = f"{CONFIG_NAMESPACE}:"
    everything = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    stack = pulumi.get_stack()
    source = f"Pulumi.{stack}.yaml"
    plain = {
        key.removeprefix(prefix): value
        for key, value in everything.items()
        if key.startswith(prefix) and key.removeprefix(prefix) not in SECRET_KEYS
    }
    secret_keys = set(runtime_config.get_config_secret_keys_env()) | {
        key for key in everything if runtime_config.is_config_secret(key)
    }
    misplaced = [
        f"{source}: {prefix}{key}: is a secret but stored in plaintext; set it with: {secret_set_command(stack, key)}"
        for key in SECRET_KEYS
        if f"{prefix}{key}" in everything and f"{prefix}{key}" not in secret_keys
    ] + [
        f"{source}: {prefix}{key}: is stored as a secret but holds plain settings; set it without --secret"
        for key in plain
        if f"{prefix}{key}" in secret_keys
    ]
    if misplaced:
        raise StackConfigError("\n".join(misplaced))
    config = stack_config_from_mapping(plain, source=source)

    cfg = pulumi.Config(CONFIG_NAMESPACE)
    credential = "coreApiClientSecret" if config.core_api_auth == "client-credentials" else "coreApiToken"
    required = [key for key in SECRET_KEYS if key not in ("coreApiToken", "coreApiClientSecret")] + [credential]
    missing = [key for key in required if cfg.get_secret(key) is None]
    if missing:
        lines = [
            f"{source}: {prefix}{key}: secret is not set (set it with: {secret_set_command(stack, key)})"
            for key in missing
        ]
        raise StackConfigError("\n".join(lines))
    static = config.core_api_auth == "static"
    secrets = StackSecrets(
        core_api_token=cfg.require_secret("coreApiToken") if static else None,
        core_api_client_secret=None if static else cfg.require_secret("coreApiClientSecret"),
        database_url=cfg.require_secret("databaseUrl"),
        redis_url=cfg.require_secret("redisUrl"),
        jwt_secret=cfg.require_secret("jwtSecret"),
    )
    return config, secrets
