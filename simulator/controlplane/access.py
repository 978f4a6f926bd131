"""How the world reaches a real control plane: kubeconfigs, and tokens from TokenRequest.

A `ControlPlaneAccess` stands where the world keeps its fake `ApiServer` (`World(api=...)`): it has
the same `url`, `kubeconfig()`, `write_kubeconfig()` and `issue_token()`. A token is minted by the
API server itself (`POST .../serviceaccounts/NAME/token`, bound to nothing, one hour), so the
process that carries it is a real service-account user and the RBAC authorizer decides what it
may do.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import yaml

from simulator.controlplane.pki import kubeconfig_document, write_kubeconfig
from simulator.errors import SimulatorError
from simulator.replay.kubeclient import ApiError, KubeClient

__all__ = ["ControlPlaneAccess", "TokenError"]

_TOKEN_SECONDS = 3600
_SERVICE_ACCOUNT_WAIT = 30.0  # a ServiceAccount applied a moment ago may not be stored yet


class TokenError(SimulatorError):
    """TokenRequest failed; the message names the ServiceAccount and the API's answer."""


class ControlPlaneAccess:
    """The admin's view of one control plane, shaped like the fake API server for the world."""

    faults = None  # a real API server takes no injected faults

    def __init__(self, admin_kubeconfig: Path) -> None:
        self.admin_kubeconfig = admin_kubeconfig
        document = yaml.safe_load(admin_kubeconfig.read_text(encoding="utf-8"))
        self._document: dict[str, Any] = document
        cluster = document["clusters"][0]["cluster"]
        self.url = str(cluster["server"])
        self.ca_pem = base64.b64decode(cluster["certificate-authority-data"])
        self.client = KubeClient(admin_kubeconfig)

    def close(self) -> None:
        self.client.close()

    def kubeconfig(self, *, token: str | None = None, user: str = "admin") -> dict[str, Any]:
        """The admin kubeconfig, or one for a bearer token (a service account's)."""
        if token is None:
            return dict(self._document)
        return kubeconfig_document(self.url, self.ca_pem, user=user, token=token)

    def write_kubeconfig(
        self, path: str | Path, *, token: str | None = None, user: str = "admin"
    ) -> Path:
        return write_kubeconfig(Path(path), self.kubeconfig(token=token, user=user))

    def issue_token(self, namespace: str, serviceaccount: str) -> str:
        """A token for `system:serviceaccount:<namespace>:<serviceaccount>`, from TokenRequest."""
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{serviceaccount}/token"
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": _TOKEN_SECONDS},
        }
        deadline = time.monotonic() + _SERVICE_ACCOUNT_WAIT
        while True:
            try:
                answer = self.client.request("POST", path, body=body)
                return str(answer["status"]["token"])
            except ApiError as exc:
                if exc.code != 404 or time.monotonic() > deadline:
                    raise TokenError(
                        f"TokenRequest for {namespace}/{serviceaccount} failed: {exc}"
                    ) from exc
            time.sleep(0.5)
