"""Short-lived bearer tokens for the emulator: the OAuth2 client-credentials grant.

`POST /realms/master/protocol/openid-connect/token` (the path Keycloak serves for the
real Core API's realm) with `grant_type=client_credentials`, `client_id` and
`client_secret` answers `{access_token, token_type: "Bearer", expires_in}`. Tokens are
random, kept in memory only, and expire after `ttl` seconds; an expired one is
answered 401 with the dialect's "expired" code, so clients can be tested on refresh.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["TOKEN_PATH", "TokenCheck", "TokenIssuer"]

TOKEN_PATH = "/realms/master/protocol/openid-connect/token"
_MAX_LIVE_TOKENS = 10_000


class TokenCheck(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass
class TokenIssuer:
    """Issues tokens to the configured clients; `clients` maps client id to secret."""

    clients: dict[str, str]
    ttl: float
    _issued: dict[str, float] = field(default_factory=dict)

    def issue(self, client_id: str, client_secret: str) -> str | None:
        expected = self.clients.get(client_id)
        if expected is None or not hmac.compare_digest(expected.encode(), client_secret.encode()):
            return None
        now = time.monotonic()
        if len(self._issued) >= _MAX_LIVE_TOKENS:
            self._issued = {token: until for token, until in self._issued.items() if until > now}
        token = secrets.token_urlsafe(32)
        self._issued[token] = now + self.ttl
        return token

    def check(self, token: str) -> TokenCheck:
        until = self._issued.get(token)
        if until is None:
            return TokenCheck.INVALID
        return TokenCheck.VALID if time.monotonic() < until else TokenCheck.EXPIRED
