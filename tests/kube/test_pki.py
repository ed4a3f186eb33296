"""The local cluster's certificates: one CA signs every leaf, each with the usages it needs."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from plexica_infra.localenv.cluster._pki import ClientIdentity, Pki, ensure_pki

CLIENTS = (ClientIdentity("admin", "admin", ("system:masters",)), ClientIdentity("kube-proxy", "system:kube-proxy"))


def _make(root: Path) -> Pki:
    return ensure_pki(
        root, clients=CLIENTS, apiserver_ips=("127.0.0.1", "10.96.0.1"), node_name="localhost", node_ips=("127.0.0.1",)
    )


def _cert(pki: Pki, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.cert(name).read_bytes())


def test_one_ca_signs_every_leaf_with_the_right_usages(tmp_path: Path) -> None:
    pki = _make(tmp_path / "pki")
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    ca_usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ca_usage.key_cert_sign and ca_usage.crl_sign
    ca.verify_directly_issued_by(ca)

    for name in ("apiserver", "kubelet-serving", "admin", "kube-proxy"):
        leaf = _cert(pki, name)
        leaf.verify_directly_issued_by(ca)  # raises when another key signed it
        assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
        assert not leaf.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
        assert stat.S_IMODE(pki.key(name).stat().st_mode) == 0o600

    def usages(name: str) -> list[x509.ObjectIdentifier]:
        return list(_cert(pki, name).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)

    assert usages("apiserver") == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert usages("admin") == [ExtendedKeyUsageOID.CLIENT_AUTH]
    names = _cert(pki, "apiserver").extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "kubernetes.default.svc.cluster.local" in names.get_values_for_type(x509.DNSName)
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "10.96.0.1"]
    admin = _cert(pki, "admin").subject
    assert admin.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "admin"
    assert admin.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:masters"


def test_a_second_run_keeps_every_file(tmp_path: Path) -> None:
    pki = _make(tmp_path / "pki")
    before = {p.name: p.read_bytes() for p in pki.root.iterdir()}
    _make(tmp_path / "pki")
    assert {p.name: p.read_bytes() for p in pki.root.iterdir()} == before
