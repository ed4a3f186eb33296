"""Talking to the reference plugin binary over HTTP (helpers for its tests)."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from pathlib import Path

import httpx

__all__ = ["assert_timestamp", "get", "healthcheck"]

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=5.0, trust_env=False)


def assert_timestamp(value: object) -> None:
    assert isinstance(value, str) and ISO_MS.match(value), value
    datetime.fromisoformat(value.replace("Z", "+00:00"))


def healthcheck(binary: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(binary), "healthcheck", url], capture_output=True, text=True, timeout=20, check=False)
