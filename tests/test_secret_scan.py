"""The secret scanner can fail: deliberately leaked values are caught (issue 12, finding 12)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from urllib.parse import quote

from tests._secret_scan import find_in_files, find_in_text, resources_holding

SECRET = "postgresql://plexica:e2e-db-password-c0ffee@postgres:5432/plexica"
OTHER = "e2e-jwt-secret-deadbeef-0123456789"


def test_plaintext_json_escaped_url_quoted_and_base64_leaks_are_caught() -> None:
    assert find_in_text(f"env: DATABASE_URL={SECRET}", [SECRET]) == ["secret #0"]
    assert find_in_text(json.dumps({"v": SECRET + '"'}), [SECRET + '"']) == ["secret #0"]
    assert find_in_text(f"?db={quote(SECRET, safe='')}", [SECRET]) == ["secret #0"]
    for prefix in (b"", b"x", b"xy"):  # base64 of the value inside a longer blob, at any alignment
        blob = base64.b64encode(prefix + b"DATABASE_URL=" + SECRET.encode() + b"\n").decode()
        assert find_in_text(blob, [SECRET]) == ["secret #0"], prefix
    assert find_in_text("v1:dRuOW82oYdz9c7fz:0CBYjCj88BzyuQUsDidNMB6", [SECRET, OTHER]) == []


def test_hits_never_repeat_the_secret() -> None:
    [hit] = find_in_text(OTHER, [SECRET, OTHER])
    assert hit == "secret #1" and OTHER not in hit


def test_a_leak_in_any_backend_file_is_caught(tmp_path: Path) -> None:
    backend = tmp_path / "backend"
    stacks = backend / ".pulumi" / "stacks" / "proj"
    history = backend / ".pulumi" / "history" / "proj" / "s"
    stacks.mkdir(parents=True)
    history.mkdir(parents=True)
    clean = {"checkpoint": {"latest": {"resources": [{"urn": "urn:x::a", "outputs": {"v": {"ciphertext": "v1:x"}}}]}}}
    (stacks / "s.json").write_text(json.dumps(clean))
    assert find_in_files(backend, [SECRET]) == []
    # A history entry the checkpoint no longer shows, gzip-compressed as the backend can store it.
    leaked = {"checkpoint": {"latest": {"resources": [{"urn": "urn:x::a", "outputs": {"envs": [f"X={SECRET}"]}}]}}}
    (history / "s-1.checkpoint.json.gz").write_bytes(gzip.compress(json.dumps(leaked).encode()))
    assert find_in_files(backend, [SECRET]) == [".pulumi/history/proj/s/s-1.checkpoint.json.gz: secret #0"]
    assert resources_holding(leaked["checkpoint"]["latest"], [SECRET]) == ["a.outputs.envs"]
