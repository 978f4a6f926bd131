"""The ConfigMaps kube-apiserver keeps in kube-system itself (its controllers, v1.37).

- `extension-apiserver-authentication` (pkg/controlplane/controller/clusterauthenticationtrust):
  `client-ca-file`, the CA bundle that verifies client certificates. Aggregated API servers
  (metrics-server, for one) read it to authenticate the requests the aggregator forwards. A
  server with no client CA writes nothing (the bench's plain-http fake API has none); the fake
  API's is the CA of its serving certificate, the one its kubeconfigs trust.
- `kube-apiserver-legacy-service-account-token-tracking` (legacytokentracking): `since`, the
  UTC date from which the server records the use of legacy token Secrets; the fake API's date
  is its clock's.
`kubectl get cm -A` shows both on every cluster. Written once, as kubernetes_service.py writes
its objects: a restarted server finds them in place.
"""

from __future__ import annotations

from typing import Any

from simulator.api.store import AlreadyExistsError, ObjectStore

__all__ = ["AUTHENTICATION_CONFIGMAP", "TOKEN_TRACKING_CONFIGMAP", "publish_apiserver_configmaps"]

AUTHENTICATION_CONFIGMAP = "extension-apiserver-authentication"
TOKEN_TRACKING_CONFIGMAP = "kube-apiserver-legacy-service-account-token-tracking"  # noqa: S105
_NAMESPACE = "kube-system"
_MANAGER = "kube-apiserver"


def _configmap(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": _NAMESPACE},
        "data": data,
    }


def publish_apiserver_configmaps(store: ObjectStore, client_ca_pem: bytes | None) -> None:
    """Create both where absent (the authentication one only with a client CA)."""
    since = store.clock.now().date().isoformat()  # Go's "2006-01-02" of the UTC time
    wanted = [_configmap(TOKEN_TRACKING_CONFIGMAP, {"since": since})]
    if client_ca_pem:
        data = {"client-ca-file": client_ca_pem.decode()}
        wanted.insert(0, _configmap(AUTHENTICATION_CONFIGMAP, data))
    for obj in wanted:
        try:
            store.create(obj, field_manager=_MANAGER)
        except AlreadyExistsError:  # kept from before a restart
            continue
