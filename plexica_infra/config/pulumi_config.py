"""Reading the running stack's config inside a Pulumi program, through Pulumi's public API.

The secrets never enter `StackConfig`: they are read only with `require_secret` and stay
secret Outputs (`StackSecrets`) all the way to the resources that use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from plexica_infra.config.keys import CONFIG_NAMESPACE, SECRET_KEYS
from plexica_infra.config.messages import secret_set_command, stack_config_from_mapping
from plexica_infra.config.model import StackConfig
from plexica_infra.errors import ConfigProblem, StackConfigError

if TYPE_CHECKING:  # the SDK loads only inside a program: `validate` needs no Pulumi
    import pulumi

__all__ = ["StackSecrets", "read_stack_config"]


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


def _stack_keys(cfg: pulumi.Config) -> list[str]:
    """Every `plexica:*` key set on the stack (prefix stripped): those the engine hands the
    program, so that a typo'd key is reported, and every known key `cfg` has a value for."""
    import pulumi

    prefix = f"{CONFIG_NAMESPACE}:"
    handed = [key.removeprefix(prefix) for key in pulumi.runtime.get_config_env() if key.startswith(prefix)]
    known = [*(field.alias or name for name, field in StackConfig.model_fields.items()), *SECRET_KEYS]
    return list(dict.fromkeys([*handed, *(key for key in known if cfg.get(key) is not None)]))


def read_stack_config() -> tuple[StackConfig, StackSecrets]:
    """Read every `plexica:*` key of the running stack once. Call only inside a Pulumi program.

    Raises StackConfigError with one `ConfigProblem` per bad key: unknown or invalid keys,
    secrets stored in plaintext, plain settings stored as secrets, and missing secrets.
    """
    import pulumi

    stack = pulumi.get_stack()
    source = f"Pulumi.{stack}.yaml"
    cfg = pulumi.Config(CONFIG_NAMESPACE)
    keys = _stack_keys(cfg)
    secret = {key for key in keys if pulumi.runtime.is_config_secret(f"{CONFIG_NAMESPACE}:{key}")}
    misplaced = [
        ConfigProblem(
            source,
            f"{CONFIG_NAMESPACE}:{key}",
            "is a secret but stored in plaintext",
            f"set it with: {secret_set_command(stack, key)}",
        )
        for key in SECRET_KEYS
        if key in keys and key not in secret
    ] + [
        ConfigProblem(
            source,
            f"{CONFIG_NAMESPACE}:{key}",
            "is stored as a secret but holds plain settings",
            "set it without --secret",
        )
        for key in keys
        if key not in SECRET_KEYS and key in secret
    ]
    if misplaced:
        raise StackConfigError(*misplaced)
    config = stack_config_from_mapping({key: cfg.get(key) for key in keys if key not in SECRET_KEYS}, source=source)

    credential = "coreApiClientSecret" if config.core_api_auth == "client-credentials" else "coreApiToken"
    required = [key for key in SECRET_KEYS if key not in ("coreApiToken", "coreApiClientSecret")] + [credential]
    missing = [key for key in required if cfg.get_secret(key) is None]
    if missing:
        raise StackConfigError(
            *(
                ConfigProblem(
                    source,
                    f"{CONFIG_NAMESPACE}:{key}",
                    "secret is not set",
                    f"set it with: {secret_set_command(stack, key)}",
                )
                for key in missing
            )
        )
    static = config.core_api_auth == "static"
    secrets = StackSecrets(
        core_api_token=cfg.require_secret("coreApiToken") if static else None,
        core_api_client_secret=None if static else cfg.require_secret("coreApiClientSecret"),
        database_url=cfg.require_secret("databaseUrl"),
        redis_url=cfg.require_secret("redisUrl"),
        jwt_secret=cfg.require_secret("jwtSecret"),
    )
    return config, secrets
