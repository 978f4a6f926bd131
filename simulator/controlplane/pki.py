"""The control plane's certificates and keys, and kubeconfigs that carry them.

One CA signs the API server's serving certificate and the client certificates of the admin
(`system:masters`), the controller manager (`system:kube-controller-manager`, which RBAC's
bootstrap policy knows) and the API server's own client for kubelet calls. The service-account
key pair signs and verifies the tokens TokenRequest mints.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from simulator.api.tls import CertificateAuthority, IssuedCertificate, private_key_pem

__all__ = ["ControlPlanePki", "kubeconfig_document", "write_kubeconfig"]

# The in-cluster names kubectl, the official client and controllers may dial.
_SERVICE_NAMES = (
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
    "127.0.0.1",
    "10.96.0.1",
)


@dataclass(frozen=True)
class ControlPlanePki:
    """Paths of every PEM file the components read."""

    folder: Path
    ca_pem: bytes

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.crt"

    def cert(self, name: str) -> Path:
        return self.folder / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.folder / f"{name}.key"

    @property
    def service_account_key(self) -> Path:
        return self.folder / "sa.key"

    @property
    def service_account_public_key(self) -> Path:
        return self.folder / "sa.pub"

    @classmethod
    def create(cls, folder: Path, *, address: str) -> ControlPlanePki:
        """Write a fresh CA, the serving and client certificates, and the SA key pair."""
        folder.mkdir(parents=True, exist_ok=True)
        ca = CertificateAuthority("appliance-sim-control-plane-ca")
        pki = cls(folder, ca.cert_pem)
        _write(pki.ca_file, ca.cert_pem)
        _write(folder / "ca.key", ca.key_pem)
        issued = {
            "apiserver": ca.issue("kube-apiserver", hosts=(*_SERVICE_NAMES, address), server=True),
            "admin": ca.issue("kubernetes-admin", organizations=("system:masters",), client=True),
            "controller-manager": ca.issue("system:kube-controller-manager", client=True),
            "apiserver-kubelet-client": ca.issue(
                "kube-apiserver-kubelet-client", organizations=("system:masters",), client=True
            ),
        }
        for name, cert in issued.items():
            pki.write_pair(name, cert)
        signing = ec.generate_private_key(ec.SECP256R1())
        _write(pki.service_account_key, private_key_pem(signing))
        _write(
            pki.service_account_public_key,
            signing.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
        return pki

    def write_pair(self, name: str, issued: IssuedCertificate) -> None:
        _write(self.cert(name), issued.cert_pem)
        _write(self.key(name), issued.key_pem)


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def kubeconfig_document(
    server: str,
    ca_pem: bytes,
    *,
    user: str,
    token: str | None = None,
    cert_file: Path | None = None,
    key_file: Path | None = None,
) -> dict[str, Any]:
    """A kubeconfig for one user: a bearer token or a client certificate (embedded)."""
    credentials: dict[str, str] = {}
    if token is not None:
        credentials["token"] = token
    if cert_file is not None and key_file is not None:
        credentials["client-certificate-data"] = base64.b64encode(cert_file.read_bytes()).decode()
        credentials["client-key-data"] = base64.b64encode(key_file.read_bytes()).decode()
    cluster = {"server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "control-plane", "cluster": cluster}],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": user, "context": {"cluster": "control-plane", "user": user}}],
        "current-context": user,
        "preferences": {},
    }


def write_kubeconfig(path: Path, document: dict[str, Any]) -> Path:
    """Write a kubeconfig readable only by us (it holds credentials)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return path
