"""A `RemoteStore` that also hears what others write: list + watch per kind, informer-style.

On a cluster with its own controllers (the real control plane), the pods the world's kubelet must
run are created by kube-controller-manager, PVCs by the StatefulSet controller, Job conditions by
the Job controller: the world learns of them only by watching. Each followed kind is listed, then
watched from the list's resourceVersion; a dropped watch resumes from the last version seen and a
410 lists again. The world's own writes reach its subscribers at once (as on the in-memory store)
and their echo from the watch is dropped, so every change is heard once.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from simulator.api.store import WORLD_MANAGER
from simulator.clock import VirtualClock
from simulator.replay.kubeclient import ApiError, KubeClient
from simulator.replay.remote import RemoteStore

__all__ = ["FOLLOWED_KINDS", "FollowingStore"]

_log = logging.getLogger(__name__)
Obj = dict[str, Any]
# What the world reacts to: its kubelet (pods), stages and app check (workloads, Jobs), volumes
# (PVCs), the status-service process runner (Deployments, Secrets, ConfigMaps) and Flux objects.
FOLLOWED_KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "Pod"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("v1", "Node"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "ReplicaSet"),
    ("batch/v1", "Job"),
    ("source.toolkit.fluxcd.io/v1", "GitRepository"),
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
)
_RETRY_SECONDS = 1.0  # a kind not served yet (a CRD to come) or a failed watch: try again soon
_ECHOES = 4096  # own writes remembered until their watch echo arrives
_WATCH_SECONDS = 30  # each watch is renewed this often (from its last version): no event is lost


class FollowingStore(RemoteStore):
    """A RemoteStore whose subscribers hear every change of the followed kinds, once."""

    def __init__(
        self,
        kubeconfig: Path,
        clock: VirtualClock,
        *,
        kinds: Iterable[tuple[str, str]] = FOLLOWED_KINDS,
        accept: Callable[[str, Obj], bool] | None = None,
        field_manager: str = WORLD_MANAGER,
    ) -> None:
        super().__init__(KubeClient(kubeconfig), clock, field_manager=field_manager)
        self.kubeconfig = kubeconfig
        self.kinds = tuple(kinds)
        self._accept = accept
        self._lock = threading.Lock()
        self._echoes: collections.OrderedDict[tuple[str, str], None] = collections.OrderedDict()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._watchers: list[KubeClient] = []
        self.synced = threading.Event()
        self._unsynced = len(self.kinds)

    # ----------------------------------------------------------------- lifecycle

    def follow(self) -> FollowingStore:
        """Start one list+watch thread per kind; `synced` is set once every served kind listed."""
        for api_version, kind in self.kinds:
            thread = threading.Thread(
                target=self._follow, args=(api_version, kind), name=f"follow-{kind}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        """Stop following and close every connection."""
        self._stopping.set()
        for watcher in list(self._watchers):
            with contextlib.suppress(Exception):  # closing a stream mid-read may raise anything
                watcher.close()
        # A watch blocked in a read ends at its server-side timeout at the latest; the threads
        # are daemons and hold nothing the caller needs, so waiting is bounded, not per thread.
        deadline = time.monotonic() + 2.0
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        self.client.close()

    # ----------------------------------------------------------------- echoes

    def _notify(self, event_type: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        key = (str(meta.get("uid", "")), str(meta.get("resourceVersion", "")))
        with self._lock:
            self._echoes[key] = None
            while len(self._echoes) > _ECHOES:
                self._echoes.popitem(last=False)
        self._deliver(event_type, obj)

    def _deliver(self, event_type: str, obj: Obj) -> None:
        if self._accept is not None and not self._accept(event_type, obj):
            return
        super()._notify(event_type, obj)

    def _heard(self, event_type: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        key = (str(meta.get("uid", "")), str(meta.get("resourceVersion", "")))
        with self._lock:
            if key in self._echoes:
                del self._echoes[key]
                return
        self._deliver(event_type, obj)

    # ----------------------------------------------------------------- following

    def _follow(self, api_version: str, kind: str) -> None:
        watcher = KubeClient(self.kubeconfig)
        self._watchers.append(watcher)
        counted = False
        try:
            while not self._stopping.is_set():
                resource = None
                with contextlib.suppress(ApiError):
                    resource = watcher.resource(api_version, kind)
                if resource is None:
                    if not counted:  # not served (yet): nothing to wait for
                        counted = True
                        self._count_synced()
                    watcher.forget(api_version)
                    self._stopping.wait(_RETRY_SECONDS)
                    continue
                try:
                    answer = watcher.request("GET", resource.path())
                except ApiError:
                    self._stopping.wait(_RETRY_SECONDS)
                    continue
                for item in answer.get("items") or []:
                    self._heard("ADDED", {"apiVersion": api_version, "kind": kind, **item})
                if not counted:
                    counted = True
                    self._count_synced()
                version = str((answer.get("metadata") or {}).get("resourceVersion", ""))
                self._watch(watcher, resource.path(), version)
        finally:
            watcher.close()

    def _watch(self, watcher: KubeClient, path: str, version: str) -> None:
        """Follow one watch until it ends; resume from the last version, relist on 410."""
        while not self._stopping.is_set():
            try:
                for event in watcher.watch(path, resource_version=version, timeout=_WATCH_SECONDS):
                    kind = str(event.get("type", ""))
                    obj = event.get("object") or {}
                    if kind == "ERROR":
                        return  # 410 Gone or the like: list again
                    version = str((obj.get("metadata") or {}).get("resourceVersion", version))
                    if kind == "BOOKMARK":
                        continue
                    self._heard(kind, obj)
            except ApiError as exc:
                if exc.code == 410:
                    return
                _log.debug("watch of %s failed: %s", path, exc)
                self._stopping.wait(_RETRY_SECONDS)
            except Exception as exc:  # a cut stream: resume where it stopped
                if self._stopping.is_set():
                    return
                _log.debug("watch of %s dropped: %s", path, exc)
                self._stopping.wait(_RETRY_SECONDS)

    def _count_synced(self) -> None:
        with self._lock:
            self._unsynced -= 1
            done = self._unsynced <= 0
        if done:
            self.synced.set()
