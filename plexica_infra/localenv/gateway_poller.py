"""Poll a gateway route on a background thread and keep every answer.

While an update runs, `GatewayPoller` GETs one URL at a fixed interval and records each
answer's status, latency, `X-Plexica-Upstream` (the registered endpoint the gateway used;
only answered to the admin token) and the version that answered (an `X-Plugin-Version`
header, else a JSON body's `version`), so "zero failed requests", "the gateway switched to
the new container" and "the new version serves" are observed, not inferred. The e2e tests
and the benchmarks share it. Every wait is bounded.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

__all__ = [
    "POLL_INTERVAL_SECONDS",
    "POLL_MAX_REQUESTS",
    "POLL_MAX_SECONDS",
    "GatewayPoller",
    "Sample",
    "answer_version",
]

#: One request every 50 ms, never more than this many or for longer.
POLL_INTERVAL_SECONDS = 0.05
POLL_MAX_REQUESTS = 3000
POLL_MAX_SECONDS = 240.0
VERSION_HEADER = "x-plugin-version"


@dataclass(frozen=True)
class Sample:
    """One gateway answer (or the lack of one)."""

    at: float  # seconds since the poller started
    status: int | None
    upstream: str | None
    latency_ms: float
    error: str | None = None
    version: str | None = None
    sent_epoch: float = 0.0  # wall clock when sent, to line up with Docker's timestamps

    @property
    def ok(self) -> bool:
        return self.status == 200


def answer_version(response: httpx.Response) -> str | None:
    """The version an answer names: its `X-Plugin-Version` header, else a JSON body's `version`."""
    header: str | None = response.headers.get(VERSION_HEADER)
    if header:
        return header
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    version = body.get("version") if isinstance(body, dict) else None
    return version if isinstance(version, str) else None


class GatewayPoller:
    """GET `url` every `interval` seconds on a background thread until stopped.

    Bounded twice: at most `max_requests` requests and `max_seconds` of polling.
    `exhausted` says the poller stopped on its own bound, i.e. it did not cover
    everything until `stop()`.
    """

    def __init__(
        self,
        url: str,
        *,
        interval: float = POLL_INTERVAL_SECONDS,
        max_requests: int = POLL_MAX_REQUESTS,
        max_seconds: float = POLL_MAX_SECONDS,
        timeout: float = 5.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        #: The admin token, so that answers name their upstream (the gateway hides it otherwise).
        self.headers = headers or {}
        self.interval = interval
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.timeout = timeout
        self.samples: list[Sample] = []
        self.exhausted = False
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="gateway-poller", daemon=True)

    def __enter__(self) -> GatewayPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        started = time.monotonic()
        with httpx.Client(timeout=self.timeout, trust_env=False, headers=self.headers) as client:
            for n in range(self.max_requests):
                due = started + n * self.interval
                if self._stop.wait(max(0.0, due - time.monotonic())):
                    return
                if time.monotonic() - started > self.max_seconds:
                    break
                with self._lock:
                    self.samples.append(self._ask(client, started))
        self.exhausted = not self._stop.is_set()

    def _ask(self, client: httpx.Client, started: float) -> Sample:
        sent, epoch = time.monotonic(), time.time()
        try:
            response = client.get(self.url)
        except httpx.HTTPError as exc:
            return Sample(sent - started, None, None, (time.monotonic() - sent) * 1000, repr(exc), None, epoch)
        return Sample(
            at=sent - started,
            status=response.status_code,
            upstream=response.headers.get("x-plexica-upstream"),
            latency_ms=(time.monotonic() - sent) * 1000,
            error=None if response.status_code == 200 else response.text[:300],
            version=answer_version(response),
            sent_epoch=epoch,
        )

    def wait_for_samples(self, count: int, timeout: float = 30.0) -> None:
        """Block until `count` answers are in (bounded), so polling covers what comes next."""
        deadline = time.monotonic() + timeout
        while len(self.snapshot()) < count:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AssertionError(f"the gateway poller got {len(self.snapshot())} answers in {timeout:.0f} s")
            time.sleep(0.02)

    def wait_for_version(self, version: str, timeout: float = 30.0) -> Sample:
        """Block until an answer names `version` (bounded); that first answer."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((s for s in self.snapshot() if s.version == version), None)
            if found is not None:
                return found
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AssertionError(
                    f"no gateway answer named version {version} in {timeout:.0f} s (seen: {self.versions()})"
                )
            time.sleep(0.02)

    def linger(self, seconds: float) -> None:
        """Keep polling `seconds` longer, then stop."""
        time.sleep(seconds)
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.timeout + 5.0)

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)

    def failures(self) -> list[Sample]:
        return [s for s in self.snapshot() if not s.ok]

    @staticmethod
    def _runs(values: list[str | None]) -> list[str | None]:
        runs: list[str | None] = []
        for value in values:
            if not runs or runs[-1] != value:
                runs.append(value)
        return runs

    def upstream_runs(self) -> list[str | None]:
        """The upstreams in the order the gateway used them, repeats collapsed."""
        return self._runs([s.upstream for s in self.snapshot()])

    def versions(self) -> list[str | None]:
        """The versions that answered, in order, repeats collapsed (None: no version named)."""
        return self._runs([s.version for s in self.snapshot() if s.ok])

    def first_from(self, upstream: str) -> Sample | None:
        """The first answer that came from `upstream`."""
        return next((s for s in self.snapshot() if s.upstream == upstream), None)

    def describe(self) -> str:
        samples = self.snapshot()
        failures = [s for s in samples if not s.ok]
        shown = "; ".join(f"t={s.at:.2f}s {s.status} {s.error}" for s in failures[:5])
        return f"{len(samples)} requests, {len(failures)} not 200 (first: {shown or 'none'})"
