"""Answers made comparable: what legitimately differs between two API servers is blanked out.

Legitimately different: identities and versions (`uid`, `resourceVersion`, `continue` tokens),
instants (creation and deletion times, condition and managedFields times, any RFC 3339 string),
generated names (`generateName` + a random suffix), allocated addresses (a Service's clusterIP),
minted tokens, the replicas a Scale reports (its owner's controller-written status), the build
facts of `/version`, and the content hashes the OpenAPI v3 index names. Everything else is
compared.

Objects on the real control plane are also written by its controllers (a Deployment's status by
kube-controller-manager, annotations by the world's node); those writes are not the API server's
answer to the corpus and are not made on the fake side (which runs no controllers). The fields a
foreign manager owns (by the real object's `managedFields`) and no corpus manager also owns are
removed from both answers before comparing: the API server's own defaults are owned by no one
and stay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["ObjectKey", "foreign_fields", "manager_of", "normalise", "object_key"]

Obj = dict[str, Any]
FieldPath = tuple[str, ...]
ObjectKey = tuple[str, str, str]  # (kind, namespace, name)

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_JWT = re.compile(r"^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$")
_IP = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
# An OpenAPI v3 document's address in the index: `?hash=` the SHA-512 of that server's document.
_OPENAPI_HASH = re.compile(r"([?&]hash=)[0-9A-F]{128}\b")
_VERSION_BUILD_FACTS = ("gitCommit", "buildDate", "goVersion", "compiler", "platform")


def object_key(obj: Obj) -> ObjectKey:
    """(kind, namespace, name) of an object (kind from the object, '' when absent)."""
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind", "")), str(meta.get("namespace", "")), str(meta.get("name", "")))


def manager_of(field_manager: str, user_agent: str) -> str:
    """The field manager kube-apiserver records for a write: the `fieldManager` parameter, else
    the user agent up to its first `/` (`OpenAPI-Generator/31.0.0/python` -> OpenAPI-Generator)."""
    if field_manager:
        return field_manager
    return user_agent.split("/", 1)[0][:128]


def _paths(node: Any, prefix: FieldPath = ()) -> Iterable[FieldPath]:
    """The fields a fieldsV1 set names: its leaves, and each container it owns as a whole (a
    `"."` entry) as that container's own path."""
    if not isinstance(node, dict) or not node:
        yield prefix
        return
    for key, child in node.items():
        if key == ".":
            yield prefix
        else:
            yield from _paths(child, (*prefix, key))


def foreign_fields(
    obj: Obj, corpus_managers: set[str], earlier: Iterable[FieldPath] = ()
) -> set[FieldPath]:
    """Field paths (fieldsV1 keys) written by managers outside the corpus (by `obj`'s
    managedFields, or `earlier` answers' about the same object: a client may replace the
    managedFields, and the controller's fields then name no manager), where no corpus manager
    owns the same field or anything inside it."""
    foreign: set[FieldPath] = set(earlier)
    own: set[FieldPath] = set()
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, dict):
            continue
        paths = set(_paths(entry.get("fieldsV1") or {}))
        (own if entry.get("manager") in corpus_managers else foreign).update(paths)
    return {path for path in foreign if path and not any(mine[: len(path)] == path for mine in own)}


def _strip(node: Any, path: FieldPath) -> None:
    """Remove the field at `path` (fieldsV1 keys) from `node`, if there."""
    if not path:
        return
    step, rest = path[0], path[1:]
    if isinstance(node, dict) and step.startswith("f:"):
        name = step[2:]
        if name not in node:
            return
        if rest:
            _strip(node[name], rest)
        else:
            del node[name]
    elif isinstance(node, list) and step.startswith(("k:", "v:")):
        wanted = json.loads(step[2:])
        for index, item in enumerate(node):
            hit = (
                isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items())
                if step.startswith("k:")
                else item == wanted
            )
            if hit:
                if rest:
                    _strip(item, rest)
                else:
                    del node[index]
                return


def _prune_empty(node: Any, path: FieldPath) -> None:
    """Remove containers along `path` that are empty (after stripping, on either side)."""
    trail: list[tuple[Any, Any]] = []  # (parent, key or index)
    current = node
    for step in path[:-1]:
        if isinstance(current, dict) and step.startswith("f:") and step[2:] in current:
            trail.append((current, step[2:]))
            current = current[step[2:]]
        elif isinstance(current, list) and step.startswith("k:"):
            wanted = json.loads(step[2:])
            index = next(
                (
                    i
                    for i, item in enumerate(current)
                    if isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items())
                ),
                None,
            )
            if index is None:
                break
            trail.append((current, index))
            current = current[index]
        else:
            break
    for parent, key in reversed(trail):
        child = parent[key]
        if isinstance(child, dict | list) and not child:
            del parent[key]
        else:
            break


def _scalar(value: str) -> str:
    if _TIME.match(value):
        return "<time>"
    if _JWT.match(value):
        return "<token>"
    # Most strings hold neither a uid nor a hash: the `in` tests skip two regex scans of each
    # (an OpenAPI document holds hundreds of thousands of strings).
    if "-" in value:
        value = _UUID.sub("<uid>", value)
    if "hash=" in value:
        value = _OPENAPI_HASH.sub(r"\1<hash>", value)
    return value


def _copy(node: Any) -> Any:
    """A copy of a decoded JSON document's containers (its scalars are immutable); what
    `copy.deepcopy` does for such a document, several times faster."""
    if isinstance(node, dict):
        return {key: _copy(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_copy(item) for item in node]
    return node


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _walk(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk(item) for item in node]
    if isinstance(node, str):
        return _scalar(node)
    return node


def _object(obj: Obj, corpus_managers: set[str]) -> None:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return
    for key in ("uid", "resourceVersion"):
        if key in meta:
            meta[key] = f"<{key}>"
    if meta.get("generateName") and str(meta.get("name", "")).startswith(meta["generateName"]):
        meta["name"] = f"{meta['generateName']}<suffix>"
    managed = meta.get("managedFields")
    if isinstance(managed, list):
        kept = [
            {**entry, "time": "<time>"} if "time" in entry else entry
            for entry in managed
            if isinstance(entry, dict) and entry.get("manager") in corpus_managers
        ]
        kept.sort(key=lambda e: (str(e.get("manager")), str(e.get("subresource", ""))))
        meta["managedFields"] = kept
        if not kept:
            del meta["managedFields"]
    status = obj.get("status")
    if obj.get("kind") == "Scale" and isinstance(status, dict) and "replicas" in status:
        # The owner's status.replicas, which a controller writes (none runs beside the fake API).
        status["replicas"] = "<controller>"
    spec = obj.get("spec")
    if obj.get("kind") == "Service" and isinstance(spec, dict):
        for key in ("clusterIP", "clusterIPs"):
            value = spec.get(key)
            if isinstance(value, str) and _IP.match(value):
                spec[key] = "<ip>"
            elif isinstance(value, list):
                spec[key] = ["<ip>" if _IP.match(str(v)) else v for v in value]


def normalise(doc: Any, *, strip: set[FieldPath], corpus_managers: set[str]) -> Any:
    """A copy of a decoded answer (object, list item, Status...) with the legitimately
    different parts blanked and the `strip` field paths (see `foreign_fields`) removed."""
    out = _copy(doc)
    if not isinstance(out, dict):
        return _walk(out)
    for path in sorted(strip, key=len, reverse=True):
        _strip(out, path)
    for path in strip:
        _prune_empty(out, path)
    _object(out, corpus_managers)
    if {"gitVersion", "major", "minor"} <= out.keys():  # /version
        for key in _VERSION_BUILD_FACTS:
            if key in out:
                out[key] = "<build>"
    meta = out.get("metadata")
    if isinstance(meta, dict) and str(out.get("kind", "")).endswith("List"):
        for key in ("resourceVersion", "continue"):
            if meta.get(key):
                meta[key] = f"<{key}>"
    return _walk(out)
