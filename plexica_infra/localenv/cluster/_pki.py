"""Certificates and kubeconfigs of the local cluster (the `cryptography` package).

One CA signs everything: the API server's serving certificate (127.0.0.1, the
`kubernetes` Service IP and names), the kubelet's serving certificate, and a
client certificate per component (admin, controller-manager, scheduler, the
node's kubelet, kube-proxy, and the API server's own client for kubelets).
ServiceAccount tokens get their own RSA key pair. Everything lives under
`<cluster>/pki/` (keys mode 0600) and is made once: a second `cluster-up`
reuses the files.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from plexica_infra.localenv.errors import LocalEnvError

__all__ = ["ClientIdentity", "Pki", "ensure_pki", "write_kubeconfig"]

_VALIDITY = datetime.timedelta(days=365)
_KEY = ec.SECP256R1()


@dataclass(frozen=True)
class ClientIdentity:
    """A client certificate's subject: CN is the user, O the groups."""

    file: str
    user: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pki:
    root: Path

    @property
    def ca_cert(self) -> Path:
        return self.root / "ca.crt"

    def cert(self, name: str) -> Path:
        return self.root / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.root / f"{name}.key"

    @property
    def sa_key(self) -> Path:
        return self.root / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.root / "sa.pub"


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def _pem_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str, groups: tuple[str, ...] = ()) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, group) for group in groups]
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    *,
    issuer: x509.Name,
    signer: ec.EllipticCurvePrivateKey,
    ca: bool = False,
    usages: tuple[x509.ObjectIdentifier, ...] = (),
    server_names: tuple[str, ...] = (),
    server_ips: tuple[str, ...] = (),
) -> x509.Certificate:
    """The one certificate builder: the CA (self-signed, `ca=True`) and every leaf."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
    if server_names or server_ips:
        alt: list[x509.GeneralName] = [x509.DNSName(n) for n in server_names]
        alt += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in server_ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _write_pair(pki: Pki, name: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    _write(pki.key(name), _pem_key(key), 0o600)
    _write(pki.cert(name), cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _issue(
    pki: Pki,
    name: str,
    subject: x509.Name,
    *,
    server_names: tuple[str, ...] = (),
    server_ips: tuple[str, ...] = (),
    client: bool = False,
) -> None:
    ca_key = serialization.load_pem_private_key(pki.key("ca").read_bytes(), None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise LocalEnvError(f"{pki.key('ca')} is not the cluster CA's EC key; remove {pki.root} to start over")
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    key = ec.generate_private_key(_KEY)
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    cert = _certificate(
        subject,
        key.public_key(),
        issuer=ca_cert.subject,
        signer=ca_key,
        usages=(usage,),
        server_names=server_names,
        server_ips=server_ips,
    )
    _write_pair(pki, name, key, cert)


def _ensure_ca(pki: Pki) -> None:
    if pki.ca_cert.is_file() and pki.key("ca").is_file():
        return
    key = ec.generate_private_key(_KEY)
    subject = _name("plexica-local-cluster-ca")
    _write_pair(pki, "ca", key, _certificate(subject, key.public_key(), issuer=subject, signer=key, ca=True))


def ensure_pki(
    root: Path,
    *,
    clients: tuple[ClientIdentity, ...],
    apiserver_ips: tuple[str, ...],
    node_name: str,
    node_ips: tuple[str, ...],
) -> Pki:
    """Create whatever is missing under `root`; existing files are kept."""
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    pki = Pki(root)
    _ensure_ca(pki)
    if not pki.cert("apiserver").is_file():
        _issue(
            pki,
            "apiserver",
            _name("kube-apiserver"),
            server_names=(
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ),
            server_ips=apiserver_ips,
        )
    if not pki.cert("kubelet-serving").is_file():
        _issue(pki, "kubelet-serving", _name(node_name), server_names=(node_name, "localhost"), server_ips=node_ips)
    for client in clients:
        if not pki.cert(client.file).is_file():
            _issue(pki, client.file, _name(client.user, client.groups), client=True)
    if not pki.sa_key.is_file():
        sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write(
            pki.sa_pub,
            sa.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
            0o644,
        )
        _write(pki.sa_key, _pem_key(sa), 0o600)
    return pki


def write_kubeconfig(path: Path, *, pki: Pki, server: str, client: str, cluster: str = "plexica-local") -> Path:
    """A kubeconfig for `client`'s certificate, by file path (nothing inlined)."""
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority": str(pki.ca_cert)}}],
        "users": [
            {
                "name": client,
                "user": {"client-certificate": str(pki.cert(client)), "client-key": str(pki.key(client))},
            }
        ],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": client}}],
        "current-context": cluster,
    }
    _write(path, yaml.safe_dump(document, sort_keys=False).encode(), 0o600)
    return path
