"""Find secret values where they must never be: state files, logs, outputs.

One scanner for every secret test, so a leak is looked for the same way everywhere.
A value is found in plaintext and in the encodings a careless serializer would use
(JSON escaping, base64, URL quoting): a leak that is merely re-encoded is still a leak.
`tests/test_secret_scan.py` shows it catches deliberately leaked values.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

__all__ = ["find_in_files", "find_in_text", "find_in_value", "variants"]


def variants(secret: str) -> set[str]:
    """The forms in which `secret` could appear in a text."""
    found = {secret, json.dumps(secret)[1:-1], quote(secret, safe="")}
    raw = secret.encode()
    for offset in range(3):  # base64 of the value at any alignment inside a longer blob
        chunk = base64.b64encode(raw[offset:]).decode().rstrip("=")
        if len(chunk) >= 12:
            found.add(chunk[4:-4] if len(chunk) > 16 else chunk)
    return {form for form in found if len(form) >= 8}


def find_in_text(text: str, secrets: Iterable[str]) -> list[str]:
    """The secrets (by index, never by value) that appear in `text` in any form."""
    hits = []
    for index, secret in enumerate(secrets):
        if any(form in text for form in variants(secret)):
            hits.append(f"secret #{index}")
    return hits


def find_in_value(value: Any, secrets: Iterable[str]) -> list[str]:
    return find_in_text(json.dumps(value, default=str), list(secrets))


def _read(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def find_in_files(root: Path, secrets: Iterable[str]) -> list[str]:
    """`<relative path>: secret #n` for every file under `root` holding a secret.

    For a Pulumi file backend this covers the checkpoint, its `.bak`, every history
    entry and the backups: the engine keeps more copies than `stack export` shows.
    """
    values = list(secrets)
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for hit in find_in_text(_read(path), values):
            hits.append(f"{path.relative_to(root)}: {hit}")
    return hits


def resources_holding(deployment: Mapping[str, Any], secrets: Iterable[str]) -> list[str]:
    """Where (resource, section, key) a secret appears in a checkpoint's resources."""
    values = list(secrets)
    found = []
    for resource in deployment.get("resources", []):
        for section in ("inputs", "outputs"):
            for key, value in (resource.get(section) or {}).items():
                if find_in_value(value, values):
                    found.append(f"{resource['urn'].rsplit('::', 1)[-1]}.{section}.{key}")
    return found
