"""Reusable constrained types for manifests and stack config.

Every regex and its error message lives here, so a rule is written once and
reads the same wherever it is reported.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

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
#: Format characters that reorder or hide text (Trojan Source, CVE-2021-42574).
_BIDI_AND_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def shown(value: object, limit: int = 80) -> str:
    """`repr(value)`, cut to `limit` characters: a hostile value must not make a message huge."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[-1]}"


def unsafe_character(text: str, *, allow_newlines: bool = False) -> str | None:
    """Describe the first control, bidi or invisible character in `text`, or None.

    Such characters make a value read differently from what it is (a name shown
    reversed, a log line that is really two). `allow_newlines` lets tabs and newlines
    through, for free text that is never a resource name or a log line.
    """
    for index, char in enumerate(text):
        if allow_newlines and char in "\t\n\r":
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Cs", "Zl", "Zp") or char in _BIDI_AND_INVISIBLE:
            name = unicodedata.name(char, "control character")
            return f"U+{ord(char):04X} ({name.lower()}) at position {index}"
    return None


def printable(text: str) -> str:
    """`text` with every control, bidi and invisible character escaped (`\\n`, `\\u202e`).

    For anything printed from user input (folder names, JSON keys): a folder named
    `x\\n::error file=README.md::injected` must print as one line, not inject a second.
    """
    if unsafe_character(text) is None:
        return text
    out = []
    for char in text:
        if unsafe_character(char) is None:
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii") if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
    return "".join(out)


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


# Egress -------------------------------------------------------------------------------------

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Destinations no manifest may open, whatever the stack's allowlist says, each with the
#: rule a refusal names.
_REFUSED_EGRESS: tuple[tuple[_Network, str], ...] = tuple(
    (ipaddress.ip_network(cidr), rule)
    for cidr, rule in (
        ("0.0.0.0/8", "'this host' addresses (0.0.0.0/8)"),
        ("127.0.0.0/8", "loopback (127.0.0.0/8)"),
        ("169.254.0.0/16", "link-local, which holds the cloud metadata endpoint 169.254.169.254 (169.254.0.0/16)"),
        ("100.100.100.200/32", "a cloud metadata endpoint (100.100.100.200)"),
        ("168.63.129.16/32", "a cloud platform endpoint (168.63.129.16)"),
        ("224.0.0.0/4", "multicast (224.0.0.0/4)"),
        ("240.0.0.0/4", "reserved and broadcast addresses (240.0.0.0/4)"),
        ("::/128", "the unspecified address (::)"),
        ("::1/128", "loopback (::1)"),
        ("::ffff:0:0/96", "IPv4-mapped addresses (::ffff:0:0/96); write the IPv4 address"),
        ("64:ff9b::/96", "NAT64 addresses (64:ff9b::/96); write the IPv4 address"),
        ("fe80::/10", "link-local (fe80::/10)"),
        ("fd00:ec2::254/128", "a cloud metadata endpoint (fd00:ec2::254)"),
        ("ff00::/8", "multicast (ff00::/8)"),
    )
)
#: The widest destination a single rule may name: a /8 (IPv4) or /32 (IPv6) is already
#: a sixteenth of everything; wider blocks are "the internet", not a destination.
_MIN_PREFIX = {4: 8, 6: 32}


def egress_refusal(network: _Network) -> str | None:
    """Why `network` may never be an egress destination, or None when it may be."""
    if network.prefixlen < _MIN_PREFIX[network.version]:
        everything = "0.0.0.0/0" if network.version == 4 else "::/0"
        return (
            f"{network} is wider than /{_MIN_PREFIX[network.version]}: it opens egress to "
            f"{'every address' if network.prefixlen == 0 else 'a large part of ' + everything}; "
            "name the destination's own address or block"
        )
    for refused, rule in _REFUSED_EGRESS:
        if refused.version == network.version and network.overlaps(refused):
            return f"{network} overlaps {rule}, which egress rules may never open"
    return None


def _network(value: str) -> _Network:
    if "%" in value:
        raise ValueError(f"{shown(value)} has an IPv6 zone id ('%...'); NetworkPolicy ipBlocks take plain addresses")
    try:
        if "/" not in value:
            address = ipaddress.ip_address(value)
            return ipaddress.ip_network(f"{address}/{address.max_prefixlen}")
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{shown(value)} is not an IP address or CIDR block ({exc}); NetworkPolicy egress needs IP "
            "blocks such as '203.0.113.10' or '203.0.113.0/24', not host names"
        ) from None


def network_within(cidr: str, allowed: Sequence[str]) -> bool:
    """True when the block `cidr` lies inside one of the `allowed` blocks (same IP version)."""
    network = ipaddress.ip_network(cidr)
    for entry in allowed:
        block = ipaddress.ip_network(entry)
        if block.version == network.version and network.subnet_of(block):  # type: ignore[arg-type]
            return True
    return False


def _cidr(value: str) -> str:
    network = _network(value)
    if (refusal := egress_refusal(network)) is not None:
        raise ValueError(refusal)
    return str(network)


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
CidrBlock = Annotated[
    str,
    AfterValidator(_cidr),
    Field(description="IP address or CIDR block; never 0.0.0.0/0, ::/0, loopback, link-local or metadata ranges"),
]
#: A stack's egress allowlist entry: the same rules as a manifest's destination.
EgressAllowed = CidrBlock


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
