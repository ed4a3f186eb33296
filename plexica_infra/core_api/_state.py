"""The emulator's one app-state object: what every router reads, set up once per app.

`create_app` builds an `EmulatorState` and hangs it on the Starlette app
(`app.state.emulator`); a handler reaches it with `state_of(request)`. The routers
(`_auth`, `_plugins`, `_registry`, `_v1_*`, `_gateway`, `_controls`) are module-level
handlers over it, with no closures over the app's settings.
"""

from __future__ import annotations

import hmac
import itertools
from dataclasses import dataclass, field

import httpx
from starlette.requests import Request

from plexica_infra.contract import (
    GUIDE_LIFECYCLE,
    PLEXICA_V1_LIFECYCLE,
    DialectName,
    LifecycleMachine,
)
from plexica_infra.core_api._faults import Faults
from plexica_infra.core_api._store import Store
from plexica_infra.core_api._tokens import TokenIssuer
from plexica_infra.core_api._upstreams import UpstreamPolicy

__all__ = ["DEFAULT_MAX_BODY_BYTES", "EmulatorState", "state_of"]

#: Largest request body the gateway accepts: plugin APIs take JSON documents, not uploads.
DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass
class EmulatorState:
    """Settings, store, fault plan and HTTP clients of one emulator app.

    `store` is owned (closed) by whoever created it. The HTTP clients exist between
    `open_clients` and `close_clients` (the app's lifespan).
    """

    admin_token: bytes
    store: Store
    dialect: DialectName
    policy: UpstreamPolicy = field(default_factory=UpstreamPolicy)
    tokens: TokenIssuer | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    faults: Faults = field(default_factory=Faults)
    #: The gateway's round-robin position per plugin.
    round_robin: dict[str, itertools.count[int]] = field(default_factory=dict)
    _clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    @property
    def v1(self) -> bool:
        return self.dialect == "plexica-v1"

    @property
    def machine(self) -> LifecycleMachine:
        """The lifecycle table of the dialect served."""
        return PLEXICA_V1_LIFECYCLE if self.v1 else GUIDE_LIFECYCLE

    def is_admin_token(self, presented: str) -> bool:
        return hmac.compare_digest(presented.encode(), self.admin_token)

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared client (pooled keep-alive connections): probes and the gateway."""
        return self._client("pooled")

    @property
    def fresh_http(self) -> httpx.AsyncClient:
        """A client without a keep-alive pool: every request on a new connection."""
        return self._client("fresh")

    def _client(self, kind: str) -> httpx.AsyncClient:
        client = self._clients.get(kind)
        if client is None:
            raise RuntimeError("the emulator's HTTP clients exist only while the app runs (its lifespan)")
        return client

    def open_clients(self) -> None:
        self._clients["pooled"] = httpx.AsyncClient(follow_redirects=False)
        self._clients["fresh"] = httpx.AsyncClient(
            follow_redirects=False, limits=httpx.Limits(max_keepalive_connections=0)
        )

    async def close_clients(self) -> None:
        for kind in list(self._clients):
            await self._clients.pop(kind).aclose()


def state_of(request: Request) -> EmulatorState:
    """The state of the app serving `request`."""
    state = request.app.state.emulator
    assert isinstance(state, EmulatorState)
    return state
