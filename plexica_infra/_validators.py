"""Reusable constrained types for manifests and stack config.

Every regex and its error message lives here, so a rule is written once and
reads the same wherever it is reported.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from plexica_infra.quantities import parse_cpu, parse_memory

__all__ = [
    "CidrBlock",
    "CpuQuantity",
    "DestinationPort",
    "DnsLabel",
    "EnvName",
    "HttpPath",
    "ImageReference",
    "MemoryQuantity",
    "PluginId",
    "Port",
    "SemVer",
    "field_error",
    "image_has_latest_tag",
    "is_local_host",
    "split_image",
]

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
# semver.org's recommended pattern.
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
# [registry[:port]/]path[:tag][@digest]; a tag or a digest is required.
_IMAGE = re.compile(
    r"^(?P<name>(?:[a-z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_HTTP_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def _dns_label(max_length: int) -> AfterValidator:
    def check(value: str) -> str:
        if len(value) > max_length or not _DNS_LABEL.match(value):
            raise ValueError(
                f"{value!r} is not a DNS-1123 label: use at most {max_length} lowercase letters, "
                "digits and '-', starting and ending with a letter or digit"
            )
        return value

    return AfterValidator(check)


def _semver(value: str) -> str:
    if not _SEMVER.match(value):
        raise ValueError(f"{value!r} is not a semantic version; expected MAJOR.MINOR.PATCH, e.g. '1.2.0'")
    return value


def _image(value: str) -> str:
    match = _IMAGE.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not an image reference; expected [registry/]path:tag or path@sha256:<digest>, lowercase path"
        )
    if not match.group("tag") and not match.group("digest"):
        raise ValueError(
            f"image {value!r} has no tag or digest; pin it, e.g. '{value}:1.0.0', so deploys are repeatable"
        )
    return value


def _http_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"path {value!r} must start with '/'; did you mean '/{value}'?")
    if not _HTTP_PATH.match(value) or "//" in value:
        raise ValueError(f"path {value!r} is not a valid URL path (no spaces, no '//', no query string)")
    return value


def _cpu(value: str) -> str:
    parse_cpu(value)
    return value


def _memory(value: str) -> str:
    parse_memory(value)
    return value


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name; use uppercase letters, digits and '_'")
    return value


def _cidr(value: str) -> str:
    try:
        if "/" not in value:
            address = ipaddress.ip_address(value)
            return f"{address}/{address.max_prefixlen}"
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not an IP address or CIDR block ({exc}); NetworkPolicy egress needs IP "
            "blocks such as '203.0.113.10' or '203.0.113.0/24', not host names"
        ) from None


PluginId = Annotated[str, _dns_label(40), Field(description="DNS-1123 label, at most 40 characters")]
DnsLabel = Annotated[str, _dns_label(63)]
SemVer = Annotated[str, AfterValidator(_semver), Field(description="Semantic version, e.g. 1.2.0")]
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
CidrBlock = Annotated[str, AfterValidator(_cidr), Field(description="IP address or CIDR block")]


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
    match = _IMAGE.match(image)
    return bool(match and match.group("tag") == "latest" and not match.group("digest"))


def split_image(image: str) -> tuple[str, str]:
    """Split an image reference into (repository path without registry, tag-or-digest suffix)."""
    match = _IMAGE.match(image)
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
