"""The cluster's DNS: `<service>.<namespace>.svc.<domain>` → the Service's ClusterIP.

A small responder (dnslib for the wire format, lightkube to read Services) that
the node's pods use as their nameserver. It listens on the pod bridge's own
address only, answers A queries for Services from the API server (cached for a
second), NXDOMAIN for other names in the cluster domain, and REFUSED for the
rest: there is nothing to forward to on this machine.

Run as `python -m plexica_infra.localenv.cluster._dns KUBECONFIG ADDRESS DOMAIN`.
"""

from __future__ import annotations

import socket
import sys
import time

from dnslib import QTYPE, RCODE, RR, A, DNSRecord
from lightkube import Client, KubeConfig
from lightkube.resources.core_v1 import Service

__all__ = ["ServiceIndex", "answer", "main"]


class ServiceIndex:
    def __init__(self, client: Client, ttl: float = 1.0) -> None:
        self._client = client
        self._ttl = ttl
        self._at = 0.0
        self._ips: dict[tuple[str, str], str] = {}

    def lookup(self, name: str, namespace: str) -> str | None:
        if time.monotonic() - self._at > self._ttl:
            ips: dict[tuple[str, str], str] = {}
            for svc in self._client.list(Service, namespace="*"):
                meta, spec = svc.metadata, svc.spec
                if meta and spec and meta.name and meta.namespace and spec.clusterIP not in (None, "", "None"):
                    ips[(meta.name, meta.namespace)] = str(spec.clusterIP)
            self._ips, self._at = ips, time.monotonic()
        return self._ips.get((name, namespace))


def answer(query: bytes, index: ServiceIndex, domain: str) -> bytes:
    request = DNSRecord.parse(query)
    reply = request.reply()
    qname = str(request.q.qname).rstrip(".").lower()
    suffix = f".svc.{domain}"
    if not (qname == domain or qname.endswith("." + domain)):
        reply.header.rcode = RCODE.REFUSED
        return bytes(reply.pack())
    labels = qname[: -len(suffix)].split(".") if qname.endswith(suffix) else []
    ip = index.lookup(labels[0], labels[1]) if len(labels) == 2 else None
    if ip is None:
        reply.header.rcode = RCODE.NXDOMAIN
    elif request.q.qtype == QTYPE.A:
        reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(ip), ttl=5))
    # Other types for an existing name: an empty NOERROR answer.
    return bytes(reply.pack())


def main(argv: list[str]) -> int:
    kubeconfig, address, domain = argv
    index = ServiceIndex(Client(KubeConfig.from_file(kubeconfig)))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, 53))
    print(f"cluster DNS for *.svc.{domain} on {address}:53", flush=True)
    while True:
        data, peer = sock.recvfrom(4096)
        try:
            sock.sendto(answer(data, index, domain), peer)
        except Exception as exc:  # one bad packet or API hiccup must not stop the resolver
            print(f"query from {peer[0]} failed: {type(exc).__name__}: {exc}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
