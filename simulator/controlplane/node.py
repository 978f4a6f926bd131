"""What a kubelet does beside pod status, for the world's simulated node on a real control plane.

The world's kubelet model binds pods and writes their status; three more duties fall to a node on
a real control plane, and this module does them (kwok does the same for its fake nodes):

- `KubeletEndpoint`: the API server proxies `kubectl logs` (and the status engine's `logs
  --previous`) to `https://NODE_IP:10250/containerLogs/...`; the answer is the log the world
  wrote for that container.
- `NodeLease`: the node-lifecycle controller marks a node whose Lease in `kube-node-lease` is not
  renewed for 40s NotReady and evicts its pods; the lease is renewed every 10s.
- `PodReaper`: a deleted pod stays Terminating until its kubelet confirms its containers are gone
  (a delete with grace period 0); without it `kubectl delete pod db-0` would never let the
  StatefulSet make a new db-0.
- `VolumeProvisioner`: the node's local storage, as a dynamic provisioner: a default
  StorageClass whose claims (the StatefulSet's volumeClaimTemplates) each get a PersistentVolume
  pre-bound to them after the world's provisioning time (the fake API's claims wait as long),
  which the real PV binder then binds. Without a class the binder would warn
  "no persistent volumes available" first, a "Storage binding" blocker no appliance shows.
"""

from __future__ import annotations

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
from simulator.world.controllers import PROVISION_SECONDS

__all__ = [
    "KUBELET_PORT",
    "STORAGE_CLASS",
    "KubeletEndpoint",
    "NodeLease",
    "PodReaper",
    "VolumeProvisioner",
]

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
        try:
            context.load_cert_chain(certificate.cert_file, certificate.key_file)
        finally:
            # Read into the context: the key need not stay on disk, nor outlive the node (each
            # judge's node left a folder in the temporary directory).
            certificate.remove()
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
    text: str = store.logs.text(namespace, pod, container)
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


class _Reactor:
    """Hears the store's changes and acts on the chosen ones in its own thread (a write to the
    API never waits in a store callback)."""

    name = "reactor"

    def __init__(self, store: RemoteStore, node_name: str) -> None:
        self.store = store
        self.node_name = node_name
        self._queue: queue.Queue[Obj | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Any = None

    def _begin(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        self._unsubscribe = self.store.changes.subscribe(self._changed)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _changed(self, event_type: str, obj: Obj) -> None:
        if self.wanted(event_type, obj):
            self._queue.put(obj)

    def _run(self) -> None:
        while (obj := self._queue.get()) is not None:
            try:
                self.act(obj)
            except ApiError as exc:  # the next change of the object tries again
                _log.warning("%s: %s failed: %s", self.name, _name(obj), exc)

    def wanted(self, event_type: str, obj: Obj) -> bool:
        raise NotImplementedError

    def act(self, obj: Obj) -> None:
        raise NotImplementedError


STORAGE_CLASS = "local-path"
PROVISIONER = "appliance-sim.dev/local-path"


class VolumeProvisioner(_Reactor):
    """The default StorageClass's provisioner: a PersistentVolume pre-bound to each claim."""

    name = "volume-provisioner"

    def __init__(self, store: RemoteStore, node_name: str) -> None:
        super().__init__(store, node_name)
        self._done: set[str] = set()
        self._timers: list[threading.Timer] = []

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        super().stop()

    def start(self) -> VolumeProvisioner:
        storage_class = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": STORAGE_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": PROVISIONER,
            "reclaimPolicy": "Retain",
            "volumeBindingMode": "Immediate",
        }
        try:
            self.store.client.request(
                "POST", "/apis/storage.k8s.io/v1/storageclasses", body=storage_class
            )
        except ApiError as exc:
            if exc.code != 409:  # already there: a second world on the same control plane
                raise
        self._begin()
        return self

    def wanted(self, event_type: str, obj: Obj) -> bool:
        if obj.get("kind") != "PersistentVolumeClaim" or event_type == "DELETED":
            return False
        spec = obj.get("spec") or {}
        return not spec.get("volumeName") and spec.get("storageClassName") == STORAGE_CLASS

    def act(self, claim: Obj) -> None:
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
                "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
            },
            "spec": {
                "capacity": {"storage": size},
                "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": STORAGE_CLASS,
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
        # The volume takes the world's provisioning time (virtual seconds, the fake API's too).
        speed = self.store.clock.speed
        delay = PROVISION_SECONDS / speed if speed > 0 else 0.0
        timer = threading.Timer(delay, self._create, (volume,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _create(self, volume: Obj) -> None:
        try:
            self.store.client.request("POST", "/api/v1/persistentvolumes", body=volume)
        except ApiError as exc:
            if exc.code != 409:  # exists already: a repeat of the same claim
                _log.warning("%s: creating %s failed: %s", self.name, _name(volume), exc)
        # The binder binds a claim when the claim changes (or at its periodic resync): say which
        # volume was made for it, so it binds now rather than up to 15 wall seconds later.
        claim = volume["spec"]["claimRef"]
        path = f"/api/v1/namespaces/{claim['namespace']}/persistentvolumeclaims/{claim['name']}"
        try:
            self.store.client.request(
                "PATCH",
                path,
                body={"metadata": {"annotations": {"appliance-sim.dev/volume": _name(volume)}}},
                content_type="application/merge-patch+json",
            )
        except ApiError as exc:  # the claim went meanwhile
            _log.warning("%s: marking %s failed: %s", self.name, path, exc)


def _name(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


class PodReaper(_Reactor):
    """Confirms the deletion of this node's pods, as the kubelet does once containers stopped."""

    name = "pod-reaper"

    def start(self) -> PodReaper:
        self._begin()
        return self

    def wanted(self, event_type: str, obj: Obj) -> bool:
        # DELETED too: the world's own graceful delete reports the pod as gone at once (its
        # watch echo is then dropped), though the API keeps it until this confirmation.
        if obj.get("kind") != "Pod":
            return False
        spec = obj.get("spec") or {}
        deleting = (obj.get("metadata") or {}).get("deletionTimestamp")
        return bool(deleting) and spec.get("nodeName") == self.node_name

    def act(self, pod: Obj) -> None:
        meta = pod.get("metadata") or {}
        path = f"/api/v1/namespaces/{meta.get('namespace')}/pods/{meta.get('name')}"
        body = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": meta.get("uid")},
        }
        try:
            self.store.client.request("DELETE", path, body=body)
        except ApiError as exc:
            if exc.code not in (404, 409):  # gone already, or a new pod of the same name
                raise
