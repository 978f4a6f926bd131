"""A throwaway certificate authority and serving certificate for the fake API.

kubectl sends bearer tokens only over https, so the fake API serves TLS with a CA that the
written kubeconfig carries as `certificate-authority-data` (verification stays on, as in
production).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["ServingCertificate", "make_serving_certificate"]


@dataclass(frozen=True)
class ServingCertificate:
    """PEM files on disk for uvicorn, and the CA in PEM for kubeconfigs."""

    cert_file: Path
    key_file: Path
    ca_file: Path
    ca_pem: bytes


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_serving_certificate(host: str, directory: Path | None = None) -> ServingCertificate:
    """A fresh CA and a certificate for `host` (plus localhost/127.0.0.1), valid for a year."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    later = now + dt.timedelta(days=366)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("fake-kubernetes-ca"))
        .issuer_name(_name("fake-kubernetes-ca"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.DNSName("kubernetes")]
    ips = {"127.0.0.1"}
    try:
        ipaddress.ip_address(host)
        ips.add(host)
    except ValueError:
        alt.append(x509.DNSName(host))
    alt.extend(x509.IPAddress(ipaddress.ip_address(ip)) for ip in sorted(ips))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("kube-apiserver"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = directory or Path(tempfile.mkdtemp(prefix="fake-api-tls-"))
    cert_file, key_file, ca_file = folder / "tls.crt", folder / "tls.key", folder / "ca.crt"
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    ca_file.write_bytes(ca_pem)
    return ServingCertificate(cert_file, key_file, ca_file, ca_pem)
