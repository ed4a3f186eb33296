"""The stack config's key vocabulary: the `plexica` namespace and its secret keys."""

from __future__ import annotations

__all__ = ["CONFIG_NAMESPACE", "SECRET_KEYS"]

CONFIG_NAMESPACE = "plexica"

#: Secret keys, each with an example used in error messages.
SECRET_KEYS: dict[str, str] = {
    "coreApiToken": "<super-admin token>",
    "coreApiClientSecret": "<OAuth2 client secret>",
    "databaseUrl": "postgresql://plexica:<password>@postgres:5432/plexica",
    "redisUrl": "redis://redis:6379",
    "jwtSecret": "<jwt signing secret>",
}
