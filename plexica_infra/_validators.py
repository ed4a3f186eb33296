"""Reusable constrained types for manifests and stack config.

Every regex and its error message lives here, so a rule is written once and
reads the same wherever it is reported. Egress destinations (`_egress.py`) and the
text helpers (`_text.py`) live in their own modules and are re-exported here.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from plexica_infra._egress import CidrBlock, EgressAllowed, egress_refusal, network_within
from plexica_infra._text import printable, shown, unsafe_character
from plexica_infra.quantities import parse_cpu, parse_memory

__all__ = [
    "MAX_ENV_VALUE_LENGTH",
    "MAX_HTTP_PATH_LENGTH",
    "MAX_IMAGE_LENGTH",
    "MAX_NESTING_DEPTH",
    "MAX_VERSION_LENGTH",
    "CidrBlock",
    "CpuQuantity",
    "DestinationPort",
    "DnsLabel",
    "EgressAllowed",
    "EnvName",
    "EnvValue",
    "HttpPath",
    "ImageReference",
    "MemoryQuantity",
    "PluginId",
    "Port",
    "SafeText",
    "SemVer",
    "egress_refusal",
    "field_error",
    "image_has_latest_tag",
    "is_local_host",
    "network_within",
    "printable",
    "shown",
    "split_image",
    "unsafe_character",
]

#: Bounds on free-form strings: far above any real value, low enough that a hostile
#: manifest cannot make a resource (a label, an env block, a log line) unbounded.
MAX_VERSION_LENGTH = 128
MAX_IMAGE_LENGTH = 512
MAX_HTTP_PATH_LENGTH = 1024
MAX_ENV_NAME_LENGTH = 128
MAX_ENV_VALUE_LENGTH = 32 * 1024
MAX_TEXT_LENGTH = 1024
#: Deepest JSON nesting a manifest may have; real manifests are 3-4 levels deep.
MAX_NESTING_DEPTH = 32

# Every pattern is ASCII-only (`re.ASCII`) and applied with `fullmatch`: `$` would match
# before a trailing newline, and `\d` would accept full-width and other Unicode digits.
_A = re.ASCII
_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", _A)
_NUM = r"(?:0|[1-9][0-9]*)"
_ID = r"(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
# semver.org's recommended pattern.
_SEMVER = re.compile(
    rf"{_NUM}\.{_NUM}\.{_NUM}(?:-{_ID}(?:\.{_ID})*)?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?",
    _A,
)
# [registry[:port]/]path[:tag][@digest]; a tag or a digest is required.
_IMAGE = re.compile(
    r"(?P<name>(?:[a-z0-9.-]+(?::[0-9]{1,5})?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?",
    _A,
)
_HTTP_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*", _A)
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})|%[01][0-9A-Fa-f]|%7[Ff]", _A)
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*", _A)


def _safe_text(max_length: int, *, allow_newlines: bool = False) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"is {len(value)} characters long; at most {max_length} are accepted")
        if (found := unsafe_character(value, allow_newlines=allow_newlines)) is not None:
            raise ValueError(f"contains {found}; control, bidi and invisible characters are not accepted")
        return value

    return AfterValidator(check)


def _dns_label(max_length: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > max_length or not _DNS_LABEL.fullmatch(value):
            raise ValueError(
                f"{shown(value)} is not a DNS-1123 label: use at most {max_length} lowercase letters, "
                "digits and '-', starting and ending with a letter or digit"
            )
        return value

    return AfterValidator(check)


def _semver(value: str) -> str:
    if len(value) > MAX_VERSION_LENGTH or not _SEMVER.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not a semantic version; expected MAJOR.MINOR.PATCH, e.g. '1.2.0' "
            f"(ASCII digits, at most {MAX_VERSION_LENGTH} characters)"
        )
    return value


def _image(value: str) -> str:
    match = _IMAGE.fullmatch(value) if len(value) <= MAX_IMAGE_LENGTH else None
    if not match:
        raise ValueError(
            f"{shown(value)} is not an image reference; expected [registry/]path:tag or path@sha256:<digest>, "
            f"lowercase path, at most {MAX_IMAGE_LENGTH} characters"
        )
    if not match.group("tag") and not match.group("digest"):
        raise ValueError(
            f"image {shown(value)} has no tag or digest; pin it, e.g. '{value}:1.0.0', so deploys are repeatable"
        )
    return value


def _http_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"path {shown(value)} must start with '/'; did you mean {shown('/' + value)}?")
    if len(value) > MAX_HTTP_PATH_LENGTH:
        raise ValueError(f"path is {len(value)} characters long; at most {MAX_HTTP_PATH_LENGTH} are accepted")
    if not _HTTP_PATH.fullmatch(value) or "//" in value:
        raise ValueError(f"path {shown(value)} is not a valid URL path (no spaces, no '//', no query string)")
    if _PERCENT.search(value):
        raise ValueError(
            f"path {shown(value)} has a malformed or control-character percent-escape; '%' must start an escape "
            "like '%20', and %00-%1F and %7F are not accepted"
        )
    if any(segment in (".", "..") for segment in value.split("/")):
        raise ValueError(f"path {shown(value)} has a '.' or '..' segment; write the path it resolves to")
    return value


def _cpu(value: str) -> str:
    parse_cpu(value)
    return value


def _memory(value: str) -> str:
    parse_memory(value)
    return value


def _env_name(value: str) -> str:
    if len(value) > MAX_ENV_NAME_LENGTH or not _ENV_NAME.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not an environment variable name; use uppercase ASCII letters, digits and '_' "
            f"(at most {MAX_ENV_NAME_LENGTH})"
        )
    return value


PluginId = Annotated[str, _dns_label(40), Field(description="DNS-1123 label, at most 40 characters")]
DnsLabel = Annotated[str, _dns_label(63)]
SemVer = Annotated[
    str, AfterValidator(_semver), Field(description=f"Semantic version, e.g. 1.2.0 (at most {MAX_VERSION_LENGTH})")
]
ImageReference = Annotated[
    str, AfterValidator(_image), Field(description="Image reference with an explicit tag or digest")
]
HttpPath = Annotated[str, AfterValidator(_http_path), Field(description="URL path starting with '/'")]
CpuQuantity = Annotated[str, AfterValidator(_cpu), Field(description="CPU: '500m', '1', '1.5' (at most 64 cores)")]
MemoryQuantity = Annotated[
    str, AfterValidator(_memory), Field(description="Memory: '512Mi', '1Gi', '500M', '2G' (at most 256Gi)")
]
Port = Annotated[int, Field(ge=1024, le=65535, description="Unprivileged TCP port, 1024-65535")]
#: A port the plugin connects to (HTTPS on 443 is fine); listening ports use `Port`.
DestinationPort = Annotated[int, Field(ge=1, le=65535, description="Destination port, 1-65535")]
EnvName = Annotated[str, AfterValidator(_env_name)]
EnvValue = Annotated[
    str,
    _safe_text(MAX_ENV_VALUE_LENGTH),
    Field(description=f"Environment value: no control or bidi characters, at most {MAX_ENV_VALUE_LENGTH}"),
]
#: One line of human-readable text that ends up in a resource (a label, a name).
SafeText = Annotated[str, _safe_text(MAX_TEXT_LENGTH)]


def is_local_host(host: str, *, localhost_subdomains: bool = True) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1: hosts only this machine can answer for.

    Brackets (`[::1]`) and case are ignored. `*.localhost` names count as local too
    unless `localhost_subdomains` is False (the stack config's stricter rule).
    """
    host = host.strip("[]").lower()
    if host == "localhost" or (localhost_subdomains and host.endswith(".localhost")):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def image_has_latest_tag(image: str) -> bool:
    """True when the image is pinned only by the mutable `latest` tag."""
    match = _IMAGE.fullmatch(image)
    tag = match.group("tag") if match else None
    # Tags are case-sensitive to a registry, but ':Latest' is as mutable as ':latest'.
    return bool(match and tag is not None and tag.lower() == "latest" and not match.group("digest"))


def split_image(image: str) -> tuple[str, str]:
    """Split an image reference into (repository path without registry, tag-or-digest suffix)."""
    match = _IMAGE.fullmatch(image)
    if not match:
        raise ValueError(f"not an image reference: {image!r}")
    name = match.group("name")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest
    suffix = f":{match.group('tag')}" if match.group("tag") else ""
    if match.group("digest"):
        suffix += f"@{match.group('digest')}"
    return name, suffix


def field_error(pointer: str, message: str) -> PydanticCustomError:
    """A cross-field error that names the offending field.

    Raised from `model_validator(mode="after")`; `pointer` is relative to the model
    that raised it, and the manifest loader joins it to the model's own location.
    """
    return PydanticCustomError("plexica_field", "{message}", {"pointer": pointer, "message": message})
