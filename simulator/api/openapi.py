"""The OpenAPI documents the fake API serves: Kubernetes' own, cut down to what it serves.

`/openapi/v3/<gv>` is kube-apiserver's published document for that group version
(`openapi_assets`) with the paths of resources and subresources the fake API does not serve
taken out; a CRD's group version gets the document apiextensions-apiserver builds
(`openapi_crd`). kubectl reads them for `explain`, for its query-parameter verifier
(`--dry-run=server` and server-side field validation need a PATCH operation with the
group-version-kind extension) and for client-side `apply`'s strategic patches. `/openapi/v2` is
the swagger document, cut the same way: JSON, or its definitions as protobuf (`openapi_v2`).
When the assets are not built, a built-in's document declares the operations alone, which is all
kubectl's verifiers need (`explain` then has nothing to show), and a CRD's lacks its parameters'
words and the apimachinery types.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import msgspec

from simulator.api import openapi_assets
from simulator.api.kind_registry import KindRegistry
from simulator.api.kind_table import GROUP_ORDER
from simulator.api.kinds import KindInfo
from simulator.api.openapi_crd import crd_document
from simulator.api.openapi_crd_v2 import v2_definitions
from simulator.api.openapi_v2 import encode_v2

__all__ = ["Documents", "group_version_path"]

_ENC = msgspec.json.Encoder()
# The routes outside any group version that kube-apiserver's /openapi/v3 documents.
_ROUTES = ("api", "apis", "version", ".well-known/openid-configuration", "openid/v1/jwks")
_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def _info_version(git_version: str) -> str:
    """`v1.37.2` -> `1.37`: the version kube-apiserver names in its documents' `info` (its
    effective version, major.minor); `unversioned` when it has none."""
    parts = git_version.removeprefix("v").split("-", 1)[0].split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 and all(parts[:2]) else "unversioned"


def group_version_path(group: str, version: str) -> str:
    """`api/v1` or `apis/<group>/<version>`: how OpenAPI and discovery name a group version."""
    return f"api/{version}" if not group else f"apis/{group}/{version}"


class Documents:
    """The served documents, encoded once per registry state (CRDs change it)."""

    def __init__(self, registry: KindRegistry, git_version: str = "") -> None:
        self.registry = registry
        # kube-apiserver's `info.version`: its version up to the first `-` (major.minor).
        self.info = {"title": "Kubernetes", "version": _info_version(git_version)}
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[object, bytes]] = {}

    def at(self, path: str) -> bytes | None:
        """The JSON served at `path` (`/openapi/v2`, `/openapi/v3`, `/openapi/v3/api/v1`), or
        None when nothing is."""
        if path == "/openapi/v2":
            return self.v2()
        if path == "/openapi/v3":
            return _ENC.encode(self.v3_root())
        if path.startswith("/openapi/v3/"):
            return self.v3_at(path[len("/openapi/v3/") :])
        return None

    def v3_root(self) -> dict[str, Any]:
        """`/openapi/v3`: one entry per served group version and per route outside them, with
        its document's hash, in Go's map order (sorted)."""
        paths: dict[str, Any] = {}
        groups = self.registry.groups()
        gvs = [("", "v1"), *((g, v) for g, vs in groups for v in vs)]
        routes = _routes(groups)
        for path in (*(group_version_path(g, v) for g, v in gvs), *routes):
            body = self.v3_at(path)
            if body is None:
                continue
            digest = hashlib.sha512(body).hexdigest().upper()
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
        return {"paths": dict(sorted(paths.items()))}

    def v3_at(self, path: str) -> bytes | None:
        """The JSON of `/openapi/v3/<path>` (`api/v1`, `apis/apps/v1`, `version`), or None."""
        parts = path.split("/")
        if parts[0] == "api" and len(parts) == 2:
            return self.v3("", parts[1])
        if parts[0] == "apis" and len(parts) == 3:
            return self.v3(parts[1], parts[2])
        served = path in _ROUTES or (
            parts[0] == "apis" and len(parts) == 2 and parts[1] in GROUP_ORDER
        )
        published = openapi_assets.v3_route_document(path) if served else None
        if published is None:
            return None
        return self._cached(("v3", path), None, lambda: _ENC.encode(published))

    def v3(self, group: str, version: str) -> bytes | None:
        """The JSON of `/openapi/v3/<gv>`, or None when nothing is served there."""
        kinds = self.registry.for_group_version(group, version)
        if not kinds:
            return None
        state = tuple(kinds), self.registry.generation
        return self._cached(
            ("v3", f"{group}/{version}"),
            state,
            lambda: _ENC.encode(self._v3(group, version, kinds)),
        )

    def v2(self) -> bytes:
        """The JSON of `/openapi/v2`: the swagger document of every served kind."""
        kinds = self.registry.all()
        state = tuple(kinds), self.registry.generation
        return self._cached(("v2", ""), state, lambda: _ENC.encode(self._v2(kinds)))

    def v2_protobuf(self) -> bytes:
        """`/openapi/v2` as kubectl asks for it: the definitions in gnostic's protobuf."""
        kinds = self.registry.all()
        state = tuple(kinds), self.registry.generation
        return self._cached(("v2", "protobuf"), state, lambda: encode_v2(self._v2(kinds)))

    def _v3(self, group: str, version: str, kinds: list[KindInfo]) -> dict[str, Any]:
        # A CRD's group version is documented by apiextensions-apiserver's own builder.
        if kinds[0].crd_name:
            return crd_document(group, version, kinds)
        return {**_v3(group, version, kinds), "info": self.info}

    def _v2(self, kinds: list[KindInfo]) -> dict[str, Any]:
        return {**_v2(kinds, _routes(self.registry.groups())), "info": self.info}

    def _cached(self, key: tuple[str, str], state: object, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and hit[0] == state:
            return hit[1]
        body = make()
        with self._lock:
            self._cache[key] = (state, body)
        return body


def _v3(group: str, version: str, kinds: list[KindInfo]) -> dict[str, Any]:
    published = openapi_assets.v3_document(group, version)
    if published is None:
        return _operations_only(group, version, kinds)
    prefix = "/" + group_version_path(group, version) + "/"
    paths = {p: v for p, v in published["paths"].items() if _served(p, prefix, kinds)}
    return {**published, "paths": paths}


def _routes(groups: list[tuple[str, list[str]]]) -> list[str]:
    """The routes outside group versions that kube-apiserver documents: those of its own mux,
    a built-in group's root among them (a CRD's group root is apiextensions-apiserver's, and
    undocumented)."""
    return [*_ROUTES, *(f"apis/{g}" for g, _ in groups if g in GROUP_ORDER)]


def _v2(kinds: list[KindInfo], routes: list[str]) -> dict[str, Any]:
    published = openapi_assets.v2_document()
    if published is None:
        return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": "unversioned"}}
    by_gv: dict[str, list[KindInfo]] = {}
    for info in kinds:
        by_gv.setdefault("/" + group_version_path(info.group, info.version) + "/", []).append(info)
    served_routes = {f"/{route}/" for route in routes}
    paths = {
        path: item
        for path, item in published["paths"].items()
        if path in served_routes
        or any(_served(path, prefix, gv_kinds) for prefix, gv_kinds in by_gv.items())
    }
    definitions = dict(published.get("definitions") or {})
    custom: set[str] = set()
    for info in kinds:
        if info.crd_name:
            own = v2_definitions(info)
            definitions.update(own)
            custom.update(own)
    tables = {"definitions": definitions, "parameters": published.get("parameters") or {}}
    # kube-openapi writes the definitions and parameters its routes refer to, and no others
    # (the published document has every version's, served or not).
    used = _referenced(paths, tables, {("definitions", name) for name in custom})
    kept = {
        table: {name: item for name, item in entries.items() if (table, name) in used}
        for table, entries in tables.items()
    }
    return {**published, "paths": paths, **kept}


def _referenced(
    roots: object, tables: dict[str, dict[str, Any]], seeds: set[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Every (table, name) `#/<table>/<name>` reference reachable from `roots` and `seeds`."""
    found: set[tuple[str, str]] = set()
    pending = [roots, *(tables[t].get(n) for t, n in seeds)]
    found.update(seeds)
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/"):
                _, table, name = ref.split("/", 2)
                if (table, name) not in found and name in tables.get(table, {}):
                    found.add((table, name))
                    pending.append(tables[table][name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _served(path: str, prefix: str, kinds: list[KindInfo]) -> bool:
    """Whether a published path belongs to a resource (and subresource) served here."""
    if not path.startswith(prefix):
        return False
    segments = [s for s in path[len(prefix) :].split("/") if s]
    if segments[:1] == ["watch"]:
        segments = segments[1:]
    if not segments:
        return True  # the group version's own discovery path
    if segments[0] == "namespaces" and len(segments) >= 3 and segments[1] == "{namespace}":
        segments = segments[2:]
    plural, rest = segments[0], segments[1:]
    for info in kinds:
        if info.plural == plural:
            return len(rest) < 2 or (len(rest) == 2 and rest[1] in info.subresources)
    return False


# ----------------------------------------------------------------------- operations only


def _operation(info: KindInfo, action: str, params: tuple[str, ...]) -> dict[str, Any]:
    return {
        "operationId": f"{action}{info.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": info.group,
            "version": info.version,
            "kind": info.kind,
        },
        "parameters": [
            {"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for p in params
        ],
        "responses": {"200": {"description": "OK"}},
    }


def _operations_only(group: str, version: str, kinds: list[KindInfo]) -> dict[str, Any]:
    """The operations kubectl's verifiers inspect, without schemas."""
    prefix = "/" + group_version_path(group, version)
    paths: dict[str, Any] = {}
    for info in kinds:
        base = (
            f"{prefix}/namespaces/{{namespace}}/{info.plural}"
            if info.namespaced
            else f"{prefix}/{info.plural}"
        )
        paths[base] = {"post": _operation(info, "post", (*_QUERY_PARAMS[:3], "pretty"))}
        item = {
            "get": _operation(info, "get", ("pretty",)),
            "put": _operation(info, "put", (*_QUERY_PARAMS[:3], "pretty")),
            "patch": _operation(info, "patch", _QUERY_PARAMS),
            "delete": _operation(info, "delete", ("dryRun", "pretty")),
        }
        paths[f"{base}/{{name}}"] = item
        if "status" in info.subresources:
            paths[f"{base}/{{name}}/status"] = {k: item[k] for k in ("get", "put", "patch")}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": {}},
    }
