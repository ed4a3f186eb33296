"""Where a plugin's registered service endpoints may point (the gateway's upstreams).

Service endpoints are http(s) URLs without userinfo, query or fragment, on an allowed
host: loopback, private networks, cluster-local or single-label container names by
default, plus what `--allow-upstream` adds; never link-local or metadata addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["UpstreamPolicy", "admit_endpoints"]

_NEVER = tuple(
    ipaddress.ip_network(cidr)
    for cidr in ("0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/3", "100.100.100.200/32", "::/128", "fe80::/10", "ff00::/8")
)
_DEFAULT_NETWORKS = tuple(
    ipaddress.ip_network(cidr)
    for cidr in ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_DEFAULT_SUFFIXES = (".svc", ".svc.cluster.local", ".localhost")


@dataclass(frozen=True)
class UpstreamPolicy:
    """Where a registered endpoint may point.

    Default: this host, private networks (Docker and cluster networks), single-label
    container names and cluster-local service names. `extra` adds CIDR blocks or host
    names (`--allow-upstream`). Link-local, metadata, multicast and unspecified
    addresses are refused whatever `extra` says.
    """

    extra: tuple[str, ...] = ()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(init=False)
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        networks, names = list(_DEFAULT_NETWORKS), set()
        for entry in self.extra:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                names.add(entry.lower().rstrip("."))
        object.__setattr__(self, "networks", tuple(networks))
        object.__setattr__(self, "names", frozenset(names))

    def refusal(self, url: str) -> str | None:
        """Why `url` may not be a service endpoint, or None."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "is not a URL with a valid port"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "is not an http(s) URL"
        if "@" in parts.netloc:
            return "carries credentials (user:password@); a service endpoint never does"
        if parts.query or parts.fragment:
            return "carries a query or fragment"
        if port == 0:
            return "has port 0"
        host = parts.hostname.lower().rstrip(".")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if host in self.names or host == "localhost" or "." not in host or host.endswith(_DEFAULT_SUFFIXES):
                return None
            return f"names host {host!r}, which is outside the hosts this Core API may route to"
        if any(address in network for network in _NEVER):
            return f"points at {address}, a link-local, metadata, multicast or unspecified address"
        if any(address in network for network in self.networks):
            return None
        return f"points at {address}, which is outside the networks this Core API may route to"


def admit_endpoints(policy: UpstreamPolicy, endpoints: Iterable[str]) -> str | None:
    """The first refusal among `endpoints` as one sentence, or None when all are allowed."""
    for endpoint in endpoints:
        if (reason := policy.refusal(endpoint)) is not None:
            shown = endpoint.split("@")[-1] if "@" in endpoint else endpoint
            return f"endpoint {shown!r} {reason}"
    return None
