"""Mutating the cluster: server-side apply of manifest dicts, deletes, and waits on the API clock.

Only the bootstrapper and reset mutate a cluster, and they do it through this module. Objects are
plain dicts (what a YAML manifest parses to), applied with server-side apply
(`PATCH application/apply-patch+yaml`) under one field manager, `appliance-bootstrap`: the API
server merges our fields into the live object, keeps fields other managers set (an admin's
annotation, a controller's replicas) and removes fields we set before and no longer send. `force`
takes a field over from another manager; callers pass it only for objects the appliance alone
writes, so a conflict on a shared object (a namespace Flux also applies) is reported, not stolen.

An `Applier` in dry-run mode records what it would do and sends no request at all, so `--dry-run`
provably makes zero mutating requests.

Waits measure time with the API server's `Date` header, not the local clock (docs/architecture.md,
"Time is the cluster's").
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from appliance.cluster.connecting import REQUEST_TIMEOUT, Cluster, parse_http_date
from appliance.errors import ApplyError
from appliance.snapshot import object_ref
from appliance.words import human_elapsed

__all__ = [
    "Applier",
    "ApplyError",
    "ApplyResult",
    "ResourceType",
    "manifest_ref",
]

Action = Literal["created", "applied", "would-apply", "deleted", "absent", "would-delete"]

APPLY_PATCH = "application/apply-patch+yaml"
FIELD_MANAGER = "appliance-bootstrap"


@dataclass(frozen=True)
class ResourceType:
    """Where a kind lives in the API."""

    group_version: str
    plural: str
    namespaced: bool

    def collection_path(self, namespace: str | None) -> str:
        """URL path of the collection (namespaced when the kind is)."""
        root = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        if self.namespaced:
            if not namespace:
                raise ApplyError(f"{self.plural} are namespaced but no namespace was given")
            return f"{root}/namespaces/{namespace}/{self.plural}"
        return f"{root}/{self.plural}"


# Kinds the appliance applies; anything else is found through discovery.
_KNOWN: dict[tuple[str, str], ResourceType] = {
    ("v1", "Namespace"): ResourceType("v1", "namespaces", False),
    ("v1", "Secret"): ResourceType("v1", "secrets", True),
    ("v1", "ConfigMap"): ResourceType("v1", "configmaps", True),
    ("v1", "Service"): ResourceType("v1", "services", True),
    ("v1", "ServiceAccount"): ResourceType("v1", "serviceaccounts", True),
    ("v1", "PersistentVolumeClaim"): ResourceType("v1", "persistentvolumeclaims", True),
    ("v1", "Pod"): ResourceType("v1", "pods", True),
    ("apps/v1", "Deployment"): ResourceType("apps/v1", "deployments", True),
    ("apps/v1", "StatefulSet"): ResourceType("apps/v1", "statefulsets", True),
    ("apps/v1", "DaemonSet"): ResourceType("apps/v1", "daemonsets", True),
    ("batch/v1", "Job"): ResourceType("batch/v1", "jobs", True),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): ResourceType(
        "rbac.authorization.k8s.io/v1", "clusterroles", False
    ),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): ResourceType(
        "rbac.authorization.k8s.io/v1", "clusterrolebindings", False
    ),
    ("rbac.authorization.k8s.io/v1", "Role"): ResourceType(
        "rbac.authorization.k8s.io/v1", "roles", True
    ),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): ResourceType(
        "rbac.authorization.k8s.io/v1", "rolebindings", True
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): ResourceType(
        "apiextensions.k8s.io/v1", "customresourcedefinitions", False
    ),
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): ResourceType(
        "source.toolkit.fluxcd.io/v1", "gitrepositories", True
    ),
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): ResourceType(
        "kustomize.toolkit.fluxcd.io/v1", "kustomizations", True
    ),
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"): ResourceType(
        "helm.toolkit.fluxcd.io/v2", "helmreleases", True
    ),
}


def manifest_ref(obj: dict[str, Any]) -> str:
    """`Kind/namespace/name` of a manifest (or `Kind/name`), for messages and plans."""
    meta = obj.get("metadata") or {}
    return object_ref(str(obj.get("kind", "?")), meta.get("namespace"), str(meta.get("name", "?")))


@dataclass(frozen=True)
class ApplyResult:
    """What happened to one object."""

    ref: str
    action: Action


@dataclass
class Applier:
    """Server-side apply, delete and wait against one cluster; `dry_run` sends nothing.

    `cluster` may be None only in dry-run (a fresh install has no cluster yet to ask).
    """

    cluster: Cluster | None
    dry_run: bool = False
    field_manager: str = FIELD_MANAGER
    sleep: Callable[[float], None] = time.sleep
    planned: list[ApplyResult] = field(default_factory=list)
    _types: dict[tuple[str, str], ResourceType] = field(default_factory=dict)

    # -- low level -------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, Any, dict[str, str]]:
        if self.cluster is None:
            raise ApplyError("no cluster connection (only a dry run may go without one)")
        api = self.cluster.api_client
        headers = {"Accept": "application/json", "Content-Type": content_type}
        method_s, url, header_params, serialized, _ = api.param_serialize(
            method=method,
            resource_path=path,
            query_params=query or [],
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = api.call_api(
                method_s,
                url,
                header_params=header_params,
                body=serialized,
                _request_timeout=REQUEST_TIMEOUT,
            )
            raw = response.read()
        except Exception as exc:  # urllib3 and ApiException alike: name the call
            raise ApplyError(f"{method} {path} failed: {exc}") from exc
        data: Any = None
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                data = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        return response.status, data, dict(response.headers or {})

    def resource_type(self, api_version: str, kind: str) -> ResourceType:
        """Where `kind` lives: the built-in table, else API discovery."""
        key = (api_version, kind)
        if key in _KNOWN:
            return _KNOWN[key]
        if key in self._types:
            return self._types[key]
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        status, data, _ = self._request("GET", path)
        if status != 200 or not isinstance(data, dict):
            raise ApplyError(
                f"the API does not serve {api_version} (HTTP {status}); is the CRD for {kind} "
                "installed?",
                status=status,
            )
        for resource in data.get("resources", []):
            if resource.get("kind") == kind and "/" not in resource.get("name", ""):
                found = ResourceType(api_version, resource["name"], bool(resource["namespaced"]))
                self._types[key] = found
                return found
        raise ApplyError(f"the API serves {api_version} but not kind {kind}")

    def _item_path(self, obj: dict[str, Any]) -> str:
        rtype = self.resource_type(obj["apiVersion"], obj["kind"])
        namespace = (obj.get("metadata") or {}).get("namespace")
        return f"{rtype.collection_path(namespace)}/{obj['metadata']['name']}"

    # -- reads -----------------------------------------------------------------------------

    def get(
        self, api_version: str, kind: str, name: str, *, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        rtype = self.resource_type(api_version, kind)
        status, data, _ = self._request("GET", f"{rtype.collection_path(namespace)}/{name}")
        if status == 404:
            return None
        if status != 200 or not isinstance(data, dict):
            raise ApplyError(
                f"reading {kind}/{name} failed: HTTP {status} {_reason(data)}", status=status
            )
        return data

    def list_objects(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        """Objects of a kind (in one namespace, or all when namespaced and none is given)."""
        rtype = self.resource_type(api_version, kind)
        if rtype.namespaced and namespace is None:
            root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            path = f"{root}/{rtype.plural}"
        else:
            path = rtype.collection_path(namespace)
        query = [("labelSelector", label_selector)] if label_selector else None
        status, data, _ = self._request("GET", path, query=query)
        if status == 404:
            return []
        if status != 200 or not isinstance(data, dict):
            raise ApplyError(f"listing {kind} failed: HTTP {status} {_reason(data)}", status=status)
        items: list[dict[str, Any]] = data.get("items") or []
        return items

    # -- writes ----------------------------------------------------------------------------

    def apply(self, obj: dict[str, Any], *, force: bool = False) -> ApplyResult:
        """Server-side apply `obj` as our field manager (creates it when absent).

        `force=True` takes over fields another manager owns: only for objects the appliance alone
        writes. Without it a conflict is an ApplyError naming the other manager and the fields.
        """
        ref = manifest_ref(obj)
        if self.dry_run:
            return self._plan(ref, "would-apply")
        item = self._item_path(obj)
        query = [("fieldManager", self.field_manager)]
        if force:
            query.append(("force", "true"))
        status, data, _ = self._request(
            "PATCH", item, body=obj, query=query, content_type=APPLY_PATCH
        )
        if status == 201:
            return ApplyResult(ref=ref, action="created")
        if status == 200:
            return ApplyResult(ref=ref, action="applied")
        if status == 409:
            raise ApplyError(
                f"applying {ref} conflicts with another field manager: {_reason(data)} "
                "(another client set these fields to other values: undo that change, then rerun)",
                status=status,
            )
        raise ApplyError(f"applying {ref} failed: HTTP {status} {_reason(data)}", status=status)

    def merge_patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        patch: dict[str, Any],
        *,
        namespace: str | None = None,
    ) -> ApplyResult:
        """A JSON merge patch (RFC 7386) of one object; an absent object is fine."""
        ref = object_ref(kind, namespace, name)
        if self.dry_run:
            return self._plan(ref, "would-apply")
        path = f"{self.resource_type(api_version, kind).collection_path(namespace)}/{name}"
        status, data, _ = self._request(
            "PATCH",
            path,
            body=patch,
            query=[("fieldManager", self.field_manager)],
            content_type="application/merge-patch+json",
        )
        if status == 404:
            return ApplyResult(ref=ref, action="absent")
        if status != 200:
            raise ApplyError(f"patching {ref} failed: HTTP {status} {_reason(data)}", status=status)
        return ApplyResult(ref=ref, action="applied")

    def _plan(self, ref: str, action: Action) -> ApplyResult:
        """A dry run's record of what would have been sent."""
        result = ApplyResult(ref=ref, action=action)
        self.planned.append(result)
        return result

    def apply_all(
        self, objects: Iterable[dict[str, Any]], *, force: bool = False
    ) -> list[ApplyResult]:
        """Apply in order (namespaces and CRDs first is the caller's job)."""
        return [self.apply(obj, force=force) for obj in objects]

    def delete(
        self, api_version: str, kind: str, name: str, *, namespace: str | None = None
    ) -> ApplyResult:
        """Delete one object (foreground propagation); absent objects are fine."""
        ref = object_ref(kind, namespace, name)
        if self.dry_run:
            return self._plan(ref, "would-delete")
        path = f"{self.resource_type(api_version, kind).collection_path(namespace)}/{name}"
        status, data, _ = self._request(
            "DELETE",
            path,
            body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"},
        )
        if status == 404:
            return ApplyResult(ref=ref, action="absent")
        if status not in (200, 202):
            raise ApplyError(f"deleting {ref} failed: HTTP {status} {_reason(data)}", status=status)
        return ApplyResult(ref=ref, action="deleted")

    # -- time ------------------------------------------------------------------------------

    def server_now(self) -> datetime:
        """The API server's clock (its `Date` header on GET /version)."""
        _, _, headers = self._request("GET", "/version")
        raw = next((v for k, v in headers.items() if k.lower() == "date"), None)
        return parse_http_date(raw) or datetime.now(UTC)

    def wait_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float,
        interval: float = 2.0,
        what: str,
    ) -> float:
        """Poll `condition` until True; the timeout counts API-server seconds.

        Returns the server-clock seconds waited; raises ApplyError naming `what` on timeout.
        """
        start = self.server_now()
        while True:
            if condition():
                return (self.server_now() - start).total_seconds()
            waited = (self.server_now() - start).total_seconds()
            if waited >= timeout:
                raise ApplyError(
                    f"timed out after {human_elapsed(waited)} (cluster clock) waiting for {what}"
                )
            self.sleep(interval)


def _reason(data: Any) -> str:
    if isinstance(data, dict):
        return str(data.get("message") or data.get("reason") or "")
    return str(data or "")[:200]
