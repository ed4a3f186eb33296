"""The guide's three shared Secrets (`plexica-database`, `plexica-redis`,
`plexica-secrets`), created once per namespace from stack secrets.

Builders never see a secret value: a Secret object carries a placeholder, and the
Platform component swaps in the stack's secret Output, so the value stays a Pulumi
secret in state, previews and logs. Plugins read the values through `secretKeyRef`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from plexica_infra.k8s.labels import platform_labels
from plexica_infra.k8s.names import K8sObject, object_metadata

__all__ = ["SHARED_SECRETS", "SecretField", "SharedSecret", "secret_key_ref", "shared_secret"]

#: Attribute of `StackSecrets` that holds the value.
SecretField = Literal["database_url", "redis_url", "jwt_secret"]


@dataclass(frozen=True)
class SharedSecret:
    name: str
    key: str
    env: str
    source: SecretField

    @property
    def placeholder(self) -> str:
        """What a rendered (non-Pulumi) copy holds instead of the value."""
        return f"<{self.source}>"


SHARED_SECRETS: tuple[SharedSecret, ...] = (
    SharedSecret(name="plexica-database", key="connection-string", env="DATABASE_URL", source="database_url"),
    SharedSecret(name="plexica-redis", key="connection-string", env="REDIS_URL", source="redis_url"),
    SharedSecret(name="plexica-secrets", key="jwt-secret", env="JWT_SECRET", source="jwt_secret"),
)


def secret_key_ref(secret: SharedSecret) -> K8sObject:
    return {"secretKeyRef": {"name": secret.name, "key": secret.key}}


def shared_secret(secret: SharedSecret, namespace: str) -> K8sObject:
    """The Secret with its placeholder value under `stringData`."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": object_metadata(secret.name, namespace, platform_labels("secrets")),
        "type": "Opaque",
        "stringData": {secret.key: secret.placeholder},
    }
