"""Egress destinations a manifest or a stack may open: IP addresses and CIDR blocks,
never the whole internet, loopback, link-local, multicast or cloud metadata ranges.

Re-exported by `_validators`, where every other constrained type lives.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, Field

from plexica_infra._text import shown

__all__ = ["CidrBlock", "EgressAllowed", "egress_refusal", "network_within"]

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


CidrBlock = Annotated[
    str,
    AfterValidator(_cidr),
    Field(description="IP address or CIDR block; never 0.0.0.0/0, ::/0, loopback, link-local or metadata ranges"),
]
#: A stack's egress allowlist entry: the same rules as a manifest's destination.
EgressAllowed = CidrBlock
