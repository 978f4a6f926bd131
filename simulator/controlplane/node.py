"""What a kubelet does beside pod status, for the world's simulated node on a real control plane.

The world's kubelet model binds pods and writes their status; three more duties fall to a node on
a real control plane, and this module does them (kwok does the same for its fake nodes):

- `KubeletEndpoint`: the API server proxies `kubectl logs` (and the status engine's `logs
  --previous`) to `https://NODE_IP:10250/containerLogs/...`; the answer is the log the world
  wrote for that container.
- `NodeLease`: the node-lifecycle controller marks a node whose Lease in `kube-node-lease` is not
  renewed for 40s NotReady and evicts its pods; the lease is renewed every 10s.
- `VolumeProvisioner`: a PVC nobody provisions stays Pending (finding-style "Storage binding"
  blockers); each new claim gets a PersistentVolume pre-bound to it, and the real PV binder binds.
"""

from __future__ import annotations

import contextlib
import http.server
import logging
import queue
import ssl
import threading
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from simulator.api.tls import make_serving_certificate
from simulator.replay.kubeclient import ApiError
from simulator.replay.remote import RemoteStore

__all__ = ["KUBELET_PORT", "KubeletEndpoint", "NodeLease", "VolumeProvisioner"]

_log = logging.getLogger(__name__)
Obj = dict[str, Any]
KUBELET_PORT = 10250
LEASE_SECONDS = 40
RENEW_SECONDS = 10.0


class KubeletEndpoint:
    """The kubelet's HTTPS API on NODE_IP:10250, as far as the API server proxies to it."""

    def __init__(self, store: RemoteStore, node_ip: str) -> None:
        self.store = store
        self.node_ip = node_ip
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> KubeletEndpoint:
        certificate = make_serving_certificate(self.node_ip)
        store = self.store

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                parts = url.path.strip("/").split("/")
                if parts == ["healthz"]:
                    self._answer(200, b"ok")
                    return
                if len(parts) == 4 and parts[0] == "containerLogs":
                    query = urllib.parse.parse_qs(url.query)
                    self._answer(200, _log_answer(store, parts[1:], query))
                    return
                self._answer(404, b"not served by the simulated kubelet\n")

            def _answer(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                _log.debug("kubelet endpoint: " + format, *args)

        server = http.server.ThreadingHTTPServer((self.node_ip, KUBELET_PORT), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate.cert_file, certificate.key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="kubelet-endpoint", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _log_answer(store: RemoteStore, where: list[str], query: dict[str, list[str]]) -> bytes:
    namespace, pod, container = where
    text = store.log_text(namespace, pod, container)
    tail = (query.get("tailLines") or [""])[0]
    if tail.isdigit():
        lines = text.splitlines(keepends=True)
        text = "".join(lines[-int(tail) :]) if int(tail) > 0 else ""
    data = text.encode()
    limit = (query.get("limitBytes") or [""])[0]
    return data[: int(limit)] if limit.isdigit() else data


def _micro_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class NodeLease:
    """Renews `kube-node-lease/<node>` every 10s of wall time, as a kubelet does."""

    def __init__(self, store: RemoteStore, node_name: str) -> None:
        self.store = store
        self.node_name = node_name
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> NodeLease:
        self._thread = threading.Thread(target=self._run, name="node-lease", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.renew()
            except ApiError as exc:  # the API may be restarting: the next renewal retries
                _log.debug("lease renewal failed: %s", exc)
            self._stopping.wait(RENEW_SECONDS)

    def renew(self) -> None:
        """Create or renew the lease, once the Node exists (the lease belongs to it)."""
        client = self.store.client
        try:
            node = client.request("GET", f"/api/v1/nodes/{self.node_name}")
        except ApiError as exc:
            if exc.code == 404:
                return
            raise
        path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
        now = _micro_time(datetime.now(UTC))
        spec = {
            "holderIdentity": self.node_name,
            "leaseDurationSeconds": LEASE_SECONDS,
            "renewTime": now,
        }
        try:
            client.request(
                "PATCH",
                f"{path}/{self.node_name}",
                body={"spec": spec},
                content_type="application/merge-patch+json",
            )
        except ApiError as exc:
            if exc.code != 404:
                raise
            owner = {
                "apiVersion": "v1",
                "kind": "Node",
                "name": self.node_name,
                "uid": node["metadata"]["uid"],
            }
            lease = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.node_name, "ownerReferences": [owner]},
                "spec": {**spec, "acquireTime": now},
            }
            client.request("POST", path, body=lease)


class VolumeProvisioner:
    """Gives each new PersistentVolumeClaim a PersistentVolume pre-bound to it."""

    def __init__(self, store: RemoteStore, node_name: str) -> None:
        self.store = store
        self.node_name = node_name
        self._queue: queue.Queue[Obj | None] = queue.Queue()
        self._done: set[str] = set()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Any = None

    def start(self) -> VolumeProvisioner:
        self._thread = threading.Thread(target=self._run, name="volume-provisioner", daemon=True)
        self._thread.start()
        self._unsubscribe = self.store.subscribe(self._changed)
        return self

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _changed(self, event_type: str, obj: Obj) -> None:
        if obj.get("kind") != "PersistentVolumeClaim" or event_type == "DELETED":
            return
        if (obj.get("spec") or {}).get("volumeName"):
            return
        self._queue.put(obj)

    def _run(self) -> None:
        while (claim := self._queue.get()) is not None:
            try:
                self._provision(claim)
            except ApiError as exc:
                _log.warning("provisioning a volume for %s failed: %s", _name(claim), exc)

    def _provision(self, claim: Obj) -> None:
        meta = claim.get("metadata") or {}
        uid = str(meta.get("uid", ""))
        if uid in self._done:
            return
        self._done.add(uid)
        spec = claim.get("spec") or {}
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        volume = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": f"pvc-{uid}",
                "labels": {"app.kubernetes.io/managed-by": "appliance-sim"},
            },
            "spec": {
                "capacity": {"storage": size},
                "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": spec.get("storageClassName") or "",
                "volumeMode": spec.get("volumeMode") or "Filesystem",
                "hostPath": {"path": f"/var/lib/appliance-sim/volumes/{uid}"},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": meta.get("namespace"),
                    "name": meta.get("name"),
                    "uid": uid,
                },
                "nodeAffinity": {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {
                                        "key": "kubernetes.io/hostname",
                                        "operator": "In",
                                        "values": [self.node_name],
                                    }
                                ]
                            }
                        ]
                    }
                },
            },
        }
        with contextlib.suppress(ApiError):  # exists already: a repeat of the same claim
            self.store.client.request("POST", "/api/v1/persistentvolumes", body=volume)


def _name(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"
