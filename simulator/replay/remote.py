"""Drive any cluster reached by a kubeconfig with the world engine, kwok-style.

`RemoteStore` stands in for the in-memory `ObjectStore`: the world's controllers, kubelet, stages
and Flux model write through it, and every write goes to the cluster's API (objects created,
status of pods and nodes patched, Events emitted, pods bound to the simulated node), so a
scenario plays out on kind, k3s or the fake API alike. The world hears of its own writes at once
(each answer is handed to the store's subscribers); it does not watch for writes by others.

`replay_onto_cluster` loads a scenario, points a `World` at the cluster and runs it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.store import (
    WORLD_MANAGER,
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    ContainerLogs,
    EventRecorder,
    ExecHandlers,
    ExpiredError,
    InvalidError,
    NotFoundError,
    StoreError,
    Subscriptions,
)
from simulator.clock import VirtualClock
from simulator.replay.kubeclient import ApiError, KubeClient
from simulator.world.engine import World
from simulator.world.scenario import Scenario, load_scenario

__all__ = ["RemoteStore", "ReplayResult", "replay_onto_cluster"]

Obj = dict[str, Any]
_CONTENT_TYPES = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}


_SERVICE_ACCOUNT_WAITS = 20


def _store_error(exc: ApiError) -> StoreError:
    kinds: dict[int, type[StoreError]] = {
        400: BadRequestError,
        404: NotFoundError,
        410: ExpiredError,
        422: InvalidError,
    }
    if exc.code == 409:
        return (AlreadyExistsError if exc.reason == "AlreadyExists" else ConflictError)(str(exc))
    error = kinds.get(exc.code, StoreError)(str(exc))
    if type(error) is StoreError:
        error.code = exc.code or 500  # e.g. 403: the message keeps the server's words
        error.reason = exc.reason or error.reason
    return error


class RemoteStore:
    """A `Store` backed by a real (or fake) API server, for the world engine to write through.

    Like the in-memory store it is lenient: status given to `create` is written through the
    status subresource, a missing namespace is created, and a merge patch carrying `status`
    is split into the main resource and `/status`. Events, logs, exec answers and change
    subscriptions are the same parts the in-memory store has.
    """

    def __init__(
        self,
        client: KubeClient,
        clock: VirtualClock,
        *,
        field_manager: str = WORLD_MANAGER,
    ) -> None:
        self.client = client
        self.clock = clock
        self.field_manager = field_manager
        self.changes = Subscriptions()
        self.events = EventRecorder(self)
        self.logs = ContainerLogs(on_write=self.changes.wake)
        self.execs = ExecHandlers()

    # ----------------------------------------------------------------- reading

    def kind_info(self, api_version: str, kind: str) -> KindInfo:
        """The served kind, as the cluster's discovery describes it."""
        try:
            found = self.client.resource(api_version, kind)
        except ApiError as exc:
            raise _store_error(exc) from exc
        if found is None:
            raise NotFoundError(
                f'the server could not find the requested resource ({kind} in "{api_version}")'
            )
        return found

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Obj:
        try:
            return self.client.request(
                method, path, body=body, params=params, content_type=content_type
            )
        except ApiError as exc:
            raise _store_error(exc) from exc

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> Obj | None:
        """The object from the cluster, or None when absent."""
        resource = self.kind_info(api_version, kind)
        try:
            obj = self._call("GET", resource.path(_ns(resource, namespace), name))
        except NotFoundError:
            return None
        return _typed(resource, obj)

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[Obj]:
        """The matching objects, ordered by namespace then name."""
        resource = self.kind_info(api_version, kind)
        params = {}
        if label_selector:
            params["labelSelector"] = label_selector
        if field_selector:
            params["fieldSelector"] = field_selector
        answer = self._call("GET", resource.path(namespace or None), params=params)
        items = [_typed(resource, item) for item in answer.get("items") or []]
        return sorted(
            items,
            key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"].get("name", "")),
        )

    # ----------------------------------------------------------------- writing

    def create(
        self,
        obj: Obj,
        *,
        dry_run: bool = False,
        strict: bool = False,
        field_manager: str | None = None,
        copy: bool = True,
        admitted: bool = False,
    ) -> Obj:
        """Create in the cluster (status given is written through /status); its admission
        decides, `admitted` or not."""
        resource = self.kind_info(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        body = {k: v for k, v in obj.items() if k != "status"}
        meta = dict(body.get("metadata") or {})
        for key in ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"):
            meta.pop(key, None)
        namespace = _ns(resource, meta.get("namespace"))
        if namespace is not None:
            meta["namespace"] = namespace
            self._ensure_namespace(namespace)
        body["metadata"] = meta
        params = {"fieldManager": field_manager or self.field_manager}
        if dry_run:
            params["dryRun"] = "All"
        created = _typed(resource, self._post(resource.path(namespace), body, params))
        if resource.group == "apiextensions.k8s.io":
            self._crd_changed(created)
        status = obj.get("status")
        if status and not dry_run:
            with contextlib.suppress(NotFoundError):  # no status subresource: create kept it
                created = _typed(
                    resource,
                    self._call(
                        "PATCH",
                        resource.path(namespace, created["metadata"]["name"]) + "/status",
                        body={"status": status},
                        content_type=_CONTENT_TYPES["merge"],
                    ),
                )
        if not dry_run:
            self._notify("ADDED", created)
        return created

    def _post(self, path: str, body: Obj, params: dict[str, str]) -> Obj:
        # In a namespace created a moment ago the service-account controller may not have made
        # `default` yet, and admission refuses pods until it has: wait for it, briefly.
        for _ in range(_SERVICE_ACCOUNT_WAITS):
            try:
                return self._call("POST", path, body=body, params=params)
            except StoreError as exc:
                if exc.code != 403 or "service account" not in exc.message:
                    raise
                time.sleep(0.5)
        return self._call("POST", path, body=body, params=params)

    def replace(
        self,
        obj: Obj,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        strict: bool = False,
        field_manager: str | None = None,
    ) -> Obj:
        """PUT the object (or its status)."""
        resource = self.kind_info(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
        meta = obj.get("metadata") or {}
        path = resource.path(_ns(resource, meta.get("namespace")), str(meta.get("name")))
        params = {"dryRun": "All"} if dry_run else None
        suffix = f"/{subresource}" if subresource else ""
        new = _typed(resource, self._call("PUT", path + suffix, body=obj, params=params))
        if not dry_run:
            self._notify("MODIFIED", new)
        return new

    def patch(  # noqa: PLR0917 - positional order is the published interface
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: Any,
        patch_type: str = "merge",
        namespace: str | None = None,
        subresource: str | None = None,
        *,
        dry_run: bool = False,
        strict: bool = False,
        field_manager: str | None = None,
        force: bool = False,
    ) -> Obj:
        """Patch in the cluster; a merge patch's `status` goes through /status, `spec.nodeName`
        of a pod through the binding subresource (the API refuses both on the main resource)."""
        resource = self.kind_info(api_version, kind)
        path = resource.path(_ns(resource, namespace), name)
        params: dict[str, str] = {"fieldManager": field_manager or self.field_manager}
        if dry_run:
            params["dryRun"] = "All"
        if patch_type == "apply" and force:
            params["force"] = "true"
        if subresource is not None or patch_type != "merge" or not isinstance(patch, dict):
            result = self._patch(resource, path, patch, patch_type, params, subresource)
        else:
            result = self._merge(resource, path, name, dict(patch), params)
        if not dry_run:
            self._notify("MODIFIED", result)
        return result

    def _merge(
        self, resource: KindInfo, path: str, name: str, patch: Obj, params: dict[str, str]
    ) -> Obj:
        status = patch.pop("status", None)
        spec = patch.get("spec")
        if resource.kind == "Pod" and isinstance(spec, dict) and spec.get("nodeName"):
            node = spec["nodeName"]
            rest = {k: v for k, v in spec.items() if k != "nodeName"}
            patch = (
                {**patch, "spec": rest} if rest else {k: v for k, v in patch.items() if k != "spec"}
            )
            self._bind(resource, path, name, str(node))
        result: Obj | None = None
        if patch:
            result = self._patch(resource, path, patch, "merge", params, None)
        if status is not None:
            result = self._patch(resource, path, {"status": status}, "merge", params, "status")
        if result is None:
            result = _typed(resource, self._call("GET", path))
        return result

    def _patch(  # noqa: PLR0917 - private, called in one shape
        self,
        resource: KindInfo,
        path: str,
        patch: Any,
        patch_type: str,
        params: dict[str, str],
        subresource: str | None,
    ) -> Obj:
        suffix = f"/{subresource}" if subresource else ""
        return _typed(
            resource,
            self._call(
                "PATCH",
                path + suffix,
                body=patch,
                params=params,
                content_type=_CONTENT_TYPES.get(patch_type, _CONTENT_TYPES["merge"]),
            ),
        )

    def _bind(self, resource: KindInfo, path: str, name: str, node: str) -> None:
        # What the scheduler does: a Binding. The fake API may not serve the subresource; a
        # plain patch of spec.nodeName is what it accepts instead.
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        }
        try:
            self._call("POST", path + "/binding", body=binding)
        except (NotFoundError, BadRequestError):
            self._patch(resource, path, {"spec": {"nodeName": node}}, "merge", {}, None)
        except ConflictError:
            pass  # already bound (a repeat of the same decision)

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        grace_period: int | None = None,
    ) -> Obj:
        """Delete in the cluster; NotFoundError when absent."""
        resource = self.kind_info(api_version, kind)
        path = resource.path(_ns(resource, namespace), name)
        live = _typed(resource, self._call("GET", path))
        params = {"dryRun": "All"} if dry_run else None
        options = None
        if grace_period is not None:
            options = {
                "apiVersion": "v1",
                "kind": "DeleteOptions",
                "gracePeriodSeconds": grace_period,
            }
        answer = self._call("DELETE", path, params=params, body=options)
        if answer.get("kind") == resource.kind:
            live = _typed(resource, answer)
        if not dry_run:
            gone = not (live.get("metadata") or {}).get("finalizers")
            self._notify("DELETED" if gone else "MODIFIED", live)
            if resource.group == "apiextensions.k8s.io":
                self._crd_changed(live)
        return live

    # ----------------------------------------------------------------- internals

    def _ensure_namespace(self, namespace: str) -> None:
        try:
            self.client.request(
                "POST",
                "/api/v1/namespaces",
                body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
            )
        except ApiError as exc:
            if exc.code not in (409, 403):  # exists, or we may not create namespaces
                raise _store_error(exc) from exc

    def _crd_changed(self, crd: Obj) -> None:
        spec = crd.get("spec") or {}
        for version in spec.get("versions") or []:
            self.client.forget(f"{spec.get('group')}/{version.get('name')}")

    def _notify(self, event_type: str, obj: Obj) -> None:
        self.changes.publish(event_type, obj)


def _ns(resource: KindInfo, namespace: object) -> str | None:
    if not resource.namespaced:
        return None
    return str(namespace or "default")


def _typed(resource: KindInfo, obj: Obj) -> Obj:
    # Answers carry apiVersion/kind, list items do not.
    return {"apiVersion": resource.api_version, "kind": resource.kind, **obj}


@dataclass(frozen=True)
class ReplayResult:
    """What a replay onto a cluster did: virtual seconds, wall seconds, callback errors."""

    world: World
    virtual_seconds: float
    wall_seconds: float
    errors: tuple[str, ...]


def replay_onto_cluster(
    scenario: str | Path | Scenario,
    *,
    kubeconfig: str | Path,
    speed: float = 0.0,
    until: float | None = None,
    on_progress: Callable[[World], None] | None = None,
) -> ReplayResult:
    """Play a scenario onto the cluster `kubeconfig` reaches; speed 0 is as fast as possible.

    The world's clock starts at the cluster's "now" so its timestamps sit beside the server's.
    """
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    client = KubeClient(kubeconfig)
    try:
        start = client.now() or datetime.now(UTC)
    except ApiError as exc:
        client.close()
        raise StoreError(f"cannot reach the cluster: {exc}; check the kubeconfig") from exc
    loaded = loaded.model_copy(update={"start": start})
    store = RemoteStore(client, VirtualClock(start, speed=0))
    base_dir = Path(scenario).resolve().parent if not isinstance(scenario, Scenario) else None
    world = World(loaded, store=store, base_dir=base_dir)
    store.clock = world.clock
    end = until if until is not None else loaded.end
    began = time.perf_counter()
    try:
        world.start()
        if speed > 0:
            world.clock.set_speed(speed)
            world.scheduler.start()
            while world.elapsed < end and not world.scheduler.errors:
                time.sleep(0.1)
                if on_progress is not None:
                    on_progress(world)
        else:
            world.run_until(end)
    finally:
        world.stop()
        client.close()
    return ReplayResult(
        world=world,
        virtual_seconds=end,
        wall_seconds=time.perf_counter() - began,
        errors=tuple(str(e) for e in world.scheduler.errors),
    )
