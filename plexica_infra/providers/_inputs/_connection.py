"""`CoreApiConnection`: which Core API a resource talks to, in which dialect, with which credentials.

Every Core API resource takes these inputs (the resource models extend this one).
Every field but the URL has a default, so resources created before a field existed
read the same. The token and the client secret are secrets: the resources send them
as Pulumi secrets, they are never diffed, never echoed as outputs and never dumped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field, SecretStr

from plexica_infra.contract import DEFAULT_DIALECT, DEFAULT_TENANT_SLUG, DIALECTS
from plexica_infra.providers._auth import AUTH_MODES
from plexica_infra.providers._config import tls_verify
from plexica_infra.providers._exceptions import CoreApiConfigError
from plexica_infra.providers._inputs._fields import Flag, Text, UrlInput, choice
from plexica_infra.providers._inputs._model import Problem, ProviderInputs
from plexica_infra.providers._props import contains_unknown

__all__ = ["CoreApiConnection", "url_problems"]


def url_problems(
    key: str, urls: list[str], *, insecure: bool, what: str | None = None, example: str = "http://127.0.0.1:3000"
) -> list[Problem]:
    """The scheme and TLS rule (`insecure_skip_tls_verify` only for local hosts) per URL."""
    problems: list[Problem] = []
    for url in urls:
        if contains_unknown(url):
            continue
        try:
            tls_verify(str(url), insecure, what=what or key, example=example)
        except CoreApiConfigError as exc:
            problems.append((key, str(exc)))
    return problems


class CoreApiConnection(ProviderInputs):
    """The Core API inputs every Core API resource shares (plexica:coreApi* stack keys)."""

    UNSENT_DEFAULTS: ClassVar[frozenset[str]] = frozenset({"tenant_slug"})

    core_api_url: UrlInput = Field(description="Where the Core API answers (plexica:coreApiUrl).")
    token: SecretStr | None = Field(
        None, exclude=True, repr=False, description="The static admin token (secret plexica:coreApiToken)."
    )
    client_secret: SecretStr | None = Field(
        None, exclude=True, repr=False, description="The OAuth2 client secret (secret plexica:coreApiClientSecret)."
    )
    insecure_skip_tls_verify: Flag = Field(
        False, description="Skip TLS verification; accepted only for a loopback Core API URL."
    )
    dialect: Annotated[str, choice(DIALECTS, "coreApiDialect")] = Field(
        DEFAULT_DIALECT, description="guide (our emulator) or plexica-v1 (the real Core API)."
    )
    auth_mode: Annotated[str, choice(AUTH_MODES, "coreApiAuth")] = Field(
        "static", description="static (the token) or client-credentials (token URL, client id, client secret)."
    )
    token_url: Text = Field("", description="The OAuth2 token endpoint of client-credentials auth.")
    client_id: Text = Field("", description="The OAuth2 client of client-credentials auth.")
    tenant_slug: Text = Field(DEFAULT_TENANT_SLUG, description="X-Tenant-Slug of the plexica-v1 service registry.")

    @classmethod
    def diff_keys(cls) -> tuple[str, ...]:
        """The resource's own inputs first, then the connection's."""
        keys = super().diff_keys()
        shared = CoreApiConnection.model_fields
        return tuple(key for key in keys if key not in shared) + tuple(key for key in keys if key in shared)

    @classmethod
    def cross_problems(cls, values: Mapping[str, Any], props: Mapping[str, Any]) -> list[Problem]:
        insecure = values.get("insecure_skip_tls_verify") is True
        problems = url_problems(
            "core_api_url", [values["core_api_url"]] if "core_api_url" in values else [], insecure=insecure
        )
        if values.get("auth_mode") == "client-credentials":
            for key, config in (("token_url", "coreApiTokenUrl"), ("client_id", "coreApiClientId")):
                if not props.get(key):
                    problems.append((key, f"{key} is required with client-credentials auth (plexica:{config})"))
            if values.get("token_url"):
                problems += url_problems(
                    "token_url",
                    [values["token_url"]],
                    insecure=insecure,
                    what="token URL",
                    example="https://keycloak:8080/realms/master/...",
                )
        return problems + super().cross_problems(values, props)
