"""Merge and strategic merge patches, as kube-apiserver applies them (JSON patch:
`json_patch.py`; apply: `store/applying.py`).

Strategic merge follows each field's patch strategy and merge key from the kind's OpenAPI
document (`fields/patch_meta.py`), or without one a table of the usual ones (containers and env
by name, volumeMounts by mountPath, ports by containerPort or port, conditions by type...),
plus the `$patch`, `$retainKeys`, `$deleteFromPrimitiveList` and `$setElementOrder` directives
kubectl sends, with strategicpatch's order for a merged list (the patch's items first, in its
order, the server's own placed where they stood). Functions never mutate their inputs.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from simulator.api.fields.fieldsets import go_map
from simulator.errors import SimulatorError

__all__ = [
    "MERGE_KEYS",
    "MergeKeyMissing",
    "PatchError",
    "apply_merge_patch",
    "apply_strategic_merge_patch",
]


class PatchError(SimulatorError, ValueError):
    """A patch the server cannot apply (answered 422 or 400 with this message)."""


class MergeKeyMissing(PatchError):
    """A strategic merge patch's list item without its list's merge key: strategicpatch's
    plain Go error, which kube-apiserver answers 500 with no reason."""


# Field name -> merge key; "ports" is resolved from the items (containerPort for containers,
# port for Services) because the same field name carries two schemas.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "ownerReferences": "uid",
    "taints": "key",
    "addresses": "type",
    "readinessGates": "conditionType",
    "resourceClaims": "name",
}
_MERGED_PRIMITIVE_LISTS = frozenset({"finalizers"})


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: maps merge recursively, null deletes, lists replace."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        dicts = [i for i in items if isinstance(i, dict)]
        if dicts and all("containerPort" in i for i in dicts):
            return "containerPort"
        if dicts and all("port" in i for i in dicts):
            return "port"
        return None
    return MERGE_KEYS.get(field)


class FieldMeta(Protocol):
    """A type's patch metadata (simulator.api.fields.patch_meta): a field's strategy, merge
    key, and its value's metadata."""

    def field(self, name: str) -> tuple[str, str | None, FieldMeta | None]: ...


# How a list merges: whether it does, by which key (None: a list of scalars), its items' meta.
_How = tuple[bool, str | None, "FieldMeta | None"]


def _how(meta: FieldMeta | None, field: str, items: list[Any]) -> _How:
    """From the kind's OpenAPI patch metadata; without it (a custom kind's patch), the table."""
    if meta is not None:
        strategy, key, child = meta.field(field)
        return "merge" in strategy.split(","), key, child
    if field in _MERGED_PRIMITIVE_LISTS:
        return True, None, None
    key = _merge_key(field, items)
    return key is not None, key, None


def _merge_list(live: Any, patch: list[Any], delete_values: list[Any], how: _How) -> Any:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    live_list = list(live) if isinstance(live, list) else []
    merges, key, child = how
    if merges and key is None and not any(isinstance(i, dict) for i in [*live_list, *patch]):
        kept = [v for v in live_list if v not in delete_values]
        merged = kept + [v for v in patch if v not in kept]
        return _in_order(merged, patch, kept, None)
    if not merges or key is None or not all(isinstance(i, dict) for i in [*live_list, *patch]):
        return [_strip_directives(i) for i in patch]
    result = [copy.deepcopy(i) for i in live_list]
    items = []
    for item in patch:
        if key not in item:
            raise MergeKeyMissing(f"map: {go_map(item)} does not contain declared merge key: {key}")
        index = next((n for n, cur in enumerate(result) if cur.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        items.append(item)
    server = list(result)  # the stored list, what the patch deletes taken out
    for item in items:
        index = next((n for n, cur in enumerate(result) if cur.get(key) == item[key]), None)
        if index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = _merge_map(result[index], item, child)
    return _in_order(result, items, server, key)


def _in_order(merged: list[Any], order: list[Any], server: list[Any], key: str | None) -> list[Any]:
    """strategicpatch's normalizeElementOrder: the items `order` names in its order, the others
    (the server's only) in the stored order, each of those placed before a named item only
    where the stored list had it before (so a new item comes first)."""

    def value(item: Any) -> Any:
        return item.get(key) if key is not None and isinstance(item, dict) else item

    named = [value(i) for i in order]
    stored = [value(i) for i in server]

    def at(values: list[Any], item: Any) -> int:
        found = value(item)
        return values.index(found) if found in values else -1

    patched = sorted((m for m in merged if value(m) in named), key=lambda m: at(named, m))
    others = sorted((m for m in merged if value(m) not in named), key=lambda m: at(stored, m))
    result: list[Any] = []
    while patched or others:
        # mergeSortedSlice: a server-only item goes first only if both were stored, it first.
        left, right = (
            (at(stored, others[0]) if others else -1),
            (at(stored, patched[0]) if patched else -1),
        )
        if others and (not patched or 0 <= left < right):
            result.append(others.pop(0))
        else:
            result.append(patched.pop(0))
    return result


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_directives(v)
            for k, v in value.items()
            if not k.startswith("$") and v is not None
        }
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def _merge_map(  # noqa: PLR0912 - one rule per branch
    live: Any, patch: dict[str, Any], meta: FieldMeta | None = None
) -> Any:
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return _strip_directives(patch)
    result = dict(live) if isinstance(live, dict) else {}
    deletions: dict[str, list[Any]] = {}
    orders: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            deletions[key.split("/", 1)[1]] = list(value or [])
        elif key.startswith("$setElementOrder/") and isinstance(value, list):
            orders[key.split("/", 1)[1]] = value
    stored = {key: result.get(key) for key in orders}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            merged = _merge_map(result.get(key), value, meta.field(key)[2] if meta else None)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            how = _how(meta, key, [*(result.get(key) or []), *value])
            result[key] = _merge_list(result.get(key), value, deletions.get(key, []), how)
        else:
            result[key] = value
    for key, values in deletions.items():
        if key not in patch and isinstance(result.get(key), list):
            result[key] = [v for v in result[key] if v not in values]
    for key, order in orders.items():  # kubectl apply's: the list's order as configured
        current, before = result.get(key), stored[key]
        if isinstance(current, list):
            server = before if isinstance(before, list) else []
            merge_key = _how(meta, key, [*server, *current])[1]
            result[key] = _in_order(current, order, server, merge_key)
    retained = patch.get("$retainKeys")
    if isinstance(retained, list):  # a retainKeys field (a strategy, a volume): these only
        result = {k: v for k, v in result.items() if k in retained}
    return result


def apply_strategic_merge_patch(target: Any, patch: Any, meta: FieldMeta | None = None) -> Any:
    """Strategic merge patch as the API server applies it to built-in kinds (`meta`: the
    kind's patch metadata; without it, the merge keys of `MERGE_KEYS`)."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    merged = _merge_map(target, patch, meta)
    return merged if merged is not None else {}
