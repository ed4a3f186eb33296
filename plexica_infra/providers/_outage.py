"""What a read or delete does when the Core API cannot be reached at all.

A `read` that gets no HTTP answer OUTAGE_PROBE_ATTEMPTS times (each connect attempt
bounded by OUTAGE_PROBE_SECONDS) calls the Core API down: a refresh of many resources
during an outage must not spend the full retry budget of a write on each. A Core API
that answers (even 5xx) gets the full budget, and a read that still fails then fails
the run. For OUTAGE_MEMORY_SECONDS after that, later reads and deletes of this process
(one `pulumi refresh` / `up` run) skip that Core API at once.

Then `read` keeps the last known outputs with a warning (drift unknown) and `delete`
lets the resource go with a warning naming what it left in the Core API, so `preview`
and the removal of containers still work during an outage; create and update fail.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from plexica_infra.providers._config import TransportSettings

__all__ = [
    "OUTAGE_MEMORY_SECONDS",
    "OUTAGE_PROBE_ATTEMPTS",
    "OUTAGE_PROBE_SECONDS",
    "known_unreachable",
    "probing",
    "remember_unreachable",
]

OUTAGE_PROBE_ATTEMPTS = 2
OUTAGE_PROBE_SECONDS = 3.0
OUTAGE_MEMORY_SECONDS = 30.0
_UNREACHABLE: dict[str, float] = {}
_LOCK = threading.Lock()


def probing(settings: TransportSettings) -> TransportSettings:
    """`settings` for a read or delete: give up early when nothing answers."""
    return dataclasses.replace(
        settings,
        unreachable_attempts=OUTAGE_PROBE_ATTEMPTS,
        connect_timeout=min(settings.connect_timeout, OUTAGE_PROBE_SECONDS),
    )


def known_unreachable(url: str) -> bool:
    """Whether this process found the Core API at `url` unreachable in the last OUTAGE_MEMORY_SECONDS."""
    with _LOCK:
        return time.monotonic() - _UNREACHABLE.get(url, -OUTAGE_MEMORY_SECONDS) < OUTAGE_MEMORY_SECONDS


def remember_unreachable(url: str) -> None:
    with _LOCK:
        _UNREACHABLE[url] = time.monotonic()
