"""Fault injection for tests: fail, delay or drop requests on demand.

A raw ASGI wrapper outside the Starlette app, so an injected fault looks to a
client exactly like a broken Core API: a 5xx before any handler ran, a slow
answer, a connection closed with no response at all, or (`drop_response_next`)
a request that took effect but whose answer was lost, which is what makes a
client's retry meet "already exists" / "already in that state". `/_emulator/*` paths are
never affected, so a test can always reset the plan.
"""

from __future__ import annotations

import asyncio
import logging
import random

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plexica_infra.core_api._errors import error_response
from plexica_infra.core_api._models import FaultSettings

__all__ = ["FaultInjector", "Faults"]

_log = logging.getLogger("plexica.core_api")
_DROP_SETTLE_SECONDS = 0.5


class Faults:
    """The current fault plan and how much of it is left."""

    def __init__(self) -> None:
        self.settings = FaultSettings()
        self._random = random.Random()

    def replace(self, settings: FaultSettings) -> None:
        self.settings = settings
        self._random = random.Random(settings.seed)

    def clear(self) -> None:
        self.replace(FaultSettings())

    def matches(self, path: str, method: str = "GET") -> bool:
        prefix, methods = self.settings.path_prefix, self.settings.methods
        return (prefix is None or path.startswith(prefix)) and (methods is None or method in methods)

    def draw_fail(self) -> bool:
        """True for `fail_ratio` of the calls (a seeded draw)."""
        return self.settings.fail_ratio > 0 and self._random.random() < self.settings.fail_ratio

    def draw_drop_response(self) -> bool:
        return self.settings.drop_response_ratio > 0 and self._random.random() < self.settings.drop_response_ratio

    def _take(self, counter: str) -> bool:
        left: int = getattr(self.settings, counter)
        if left <= 0:
            return False
        self.settings = self.settings.model_copy(update={counter: left - 1})
        return True

    def take_drop(self) -> bool:
        return self._take("drop_next")

    def take_fail(self) -> bool:
        return self._take("fail_next")

    def take_drop_response(self) -> bool:
        return self._take("drop_response_next")

    def to_json(self) -> dict[str, object]:
        return self.settings.model_dump()


class FaultInjector:
    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path.startswith("/_emulator/")
            or not self.faults.matches(path, scope.get("method", "GET"))
        ):
            await self.app(scope, receive, send)
            return
        latency_ms = self.faults.settings.latency_ms
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        if self.faults.take_drop():
            _log.info("fault: dropping the connection of %s %s", scope["method"], path)
            await _drop_connection(send)
            return
        if self.faults.take_fail() or self.faults.draw_fail():
            status = self.faults.settings.status
            _log.info("fault: answering %s %s with %d", scope["method"], path, status)
            response = error_response(status, "injected_fault", f"fault injected by the emulator: {status} for {path}")
            await response(scope, receive, send)
            return
        if self.faults.take_drop_response() or self.faults.draw_drop_response():
            _log.info("fault: handling %s %s, then dropping its answer", scope["method"], path)

            async def swallow(message: Message) -> None:
                return None

            await self.app(scope, receive, swallow)
            await _drop_connection(send)
            return
        await self.app(scope, receive, send)


async def _drop_connection(send: Send) -> None:
    """Close the client's connection without writing a byte.

    ASGI has no "abort" message, so this reaches the transport of uvicorn's h11
    request cycle (`send` is its bound method); the CLI pins `http="h11"`.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("drop_next needs the emulator's uvicorn h11 server")
    transport.close()
    # Wait until uvicorn has seen the connection go, or it would answer 500 on it.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _DROP_SETTLE_SECONDS
    while not getattr(cycle, "disconnected", True) and loop.time() < deadline:
        await asyncio.sleep(0.001)
