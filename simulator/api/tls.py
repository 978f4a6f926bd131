"""Throwaway certificate authorities: the fake API's serving certificate, the control plane's PKI.

kubectl sends bearer tokens only over https, so the fake API serves TLS with a CA that the
written kubeconfig carries as `certificate-authority-data` (verification stays on, as in
production). The real control plane (`simulator.controlplane`) issues its serving and client
certificates from the same kind of CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CertificateAuthority",
    "IssuedCertificate",
    "ServingCertificate",
    "make_serving_certificate",
    "private_key_pem",
]


@dataclass(frozen=True)
class ServingCertificate:
    """PEM files on disk for uvicorn, and the CA in PEM for kubeconfigs."""

    cert_file: Path
    key_file: Path
    ca_file: Path
    ca_pem: bytes

    def remove(self) -> None:
        """Delete the folder `make_serving_certificate` made for the files (key included)."""
        shutil.rmtree(self.cert_file.parent, ignore_errors=True)


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate and its private key, PEM-encoded."""

    cert_pem: bytes
    key_pem: bytes


def _name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (what kube components and uvicorn read)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _key_usage(*, signing_ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        key_cert_sign=signing_ca,
        crl_sign=signing_ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        encipher_only=False,
        decipher_only=False,
    )


class CertificateAuthority:
    """A fresh self-signed CA, valid for a year, that issues server and client certificates."""

    def __init__(self, common_name: str = "fake-kubernetes-ca") -> None:
        self._not_before = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        self._not_after = self._not_before + dt.timedelta(days=366)
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._not_before)
            .not_valid_after(self._not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_key_usage(signing_ca=True), critical=True)
            .sign(self._key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return private_key_pem(self._key)

    def issue(
        self,
        common_name: str,
        *,
        organizations: Sequence[str] = (),
        hosts: Sequence[str] = (),
        server: bool = False,
        client: bool = False,
    ) -> IssuedCertificate:
        """A certificate for `hosts` (DNS names or IPs) and/or a client identity (CN, O=groups)."""
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, organizations))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._not_before)
            .not_valid_after(self._not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False
            )
        usages = [ExtendedKeyUsageOID.SERVER_AUTH] if server else []
        usages += [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
        if usages:
            builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        return IssuedCertificate(
            cert.public_bytes(serialization.Encoding.PEM), private_key_pem(key)
        )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_serving_certificate(host: str) -> ServingCertificate:
    """A fresh CA and a certificate for `host` (plus localhost/127.0.0.1), valid for a year, in
    a new temporary folder: `remove()` it once the server has read it or has stopped."""
    ca = CertificateAuthority()
    hosts = ["localhost", "kubernetes", "127.0.0.1"]
    if host not in hosts:
        hosts.append(host)
    issued = ca.issue("kube-apiserver", hosts=hosts, server=True)
    folder = Path(tempfile.mkdtemp(prefix="fake-api-tls-"))
    cert_file, key_file, ca_file = folder / "tls.crt", folder / "tls.key", folder / "ca.crt"
    cert_file.write_bytes(issued.cert_pem + ca.cert_pem)
    key_file.write_bytes(issued.key_pem)
    key_file.chmod(0o600)
    ca_file.write_bytes(ca.cert_pem)
    return ServingCertificate(cert_file, key_file, ca_file, ca.cert_pem)
