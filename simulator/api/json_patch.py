"""RFC 6902 JSON patch as kube-apiserver applies it: gopkg.in/evanphx/json-patch.v4 (v4.13.0),
ported with its semantics and its words, which kube-apiserver answers in a 422.

Where that library departs from the RFC, clients meet the library: `replace` of a key an object
does not have adds it (a map's get never fails), `test` of a missing key against null passes, a
negative array index counts from the end, a `null` on the way is a missing path, and a path
without its leading `/` reads from the document's root.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from simulator.api.patching import PatchError

__all__ = ["apply_json_patch"]

_MISSING = "missing value"
_INVALID_INDEX = "invalid index referenced"
_TEST_FAILED = "test failed"
_ATOI = re.compile(r"[+-]?[0-9]+")
_DECODE = re.compile(r"~[01]")

Container = dict[str, Any] | list[Any]


class _Refused(Exception):
    """An inner error, wrapped by the operation that met it (as Go's `%w`)."""


def _atoi(key: str) -> int:
    if not _ATOI.fullmatch(key):
        raise _Refused(f'strconv.Atoi: parsing "{key}": invalid syntax')
    return int(key)


def _index(key: str, size: int, *, adding: bool = False) -> int:
    """An array index as partialArray reads it: in range, or negative from the end."""
    idx = _atoi(key)
    bound = size + 1 if adding else size
    if idx >= bound or idx < -bound:
        raise _Refused(f"Unable to access invalid index: {idx}: {_INVALID_INDEX}")
    return idx + bound if idx < 0 else idx


def _get(con: Container, key: str) -> Any:
    if isinstance(con, dict):
        return con.get(key)
    return con[_index(key, len(con))]


def _add(con: Container, key: str, value: Any) -> None:
    if isinstance(con, dict):
        con[key] = value
    elif key == "-":
        con.append(value)
    else:
        if not _ATOI.fullmatch(key):
            raise _Refused(
                f"value was not a proper array index: '{key}': "
                f'strconv.Atoi: parsing "{key}": invalid syntax'
            )
        con.insert(_index(key, len(con), adding=True), value)


def _remove(con: Container, key: str) -> None:
    if isinstance(con, dict):
        if key not in con:
            raise _Refused(f"Unable to remove nonexistent key: {key}: {_MISSING}")
        del con[key]
    else:
        del con[_index(key, len(con))]


def _decode(part: str) -> str:
    return _DECODE.sub(lambda m: "/" if m.group() == "~1" else "~", part)


def _find(doc: Any, path: str) -> tuple[Container | None, str]:
    """The container of the path's last part, and that part (findObject)."""
    split = path.split("/")
    if len(split) < 2:
        return None, ""
    node = doc
    for part in split[1:-1]:
        try:
            node = _get(node, _decode(part))
        except _Refused:
            return None, ""
        if not isinstance(node, (dict, list)):
            return None, ""
    return node, _decode(split[-1])


def _field(op: dict[str, Any], name: str, what: str) -> str:
    value = op.get(name)
    if value is None:
        raise _Refused(what)
    if not isinstance(value, str):
        raise _Refused(f"json: cannot unmarshal {_json_type(value)} into Go value of type string")
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "object" if isinstance(value, dict) else "array"


def _path(op: dict[str, Any], words: str) -> str:
    try:
        return _field(op, "path", f"operation missing path field: {_MISSING}")
    except _Refused as exc:
        raise PatchError(f"{words}: {exc}") from None


def _from(op: dict[str, Any], words: str) -> str:
    try:
        return _field(op, "from", f"operation, missing from field: {_MISSING}")
    except _Refused as exc:
        raise PatchError(f"{words}: {exc}") from None


def _found(doc: Any, path: str, missing: str) -> tuple[Container, str]:
    con, key = _find(doc, path)
    if con is None:
        raise PatchError(f"{missing}: {_MISSING}")
    return con, key


def _add_op(doc: Any, op: dict[str, Any]) -> Any:
    path = _plain_path(op, "add")
    con, key = _found(doc, path, f'add operation does not apply: doc is missing path: "{path}"')
    try:
        _add(con, key, copy.deepcopy(op.get("value")))
    except _Refused as exc:
        raise PatchError(f"error in add for path: '{path}': {exc}") from None
    return doc


def _plain_path(op: dict[str, Any], kind: str) -> str:
    """An add's, a remove's or a copy's path: the library says "missing value" whatever was
    wrong with it."""
    path = op.get("path")
    if not isinstance(path, str):
        raise PatchError(f"{kind} operation failed to decode path: {_MISSING}")
    return path


def _remove_op(doc: Any, op: dict[str, Any]) -> Any:
    path = _plain_path(op, "remove")
    con, key = _found(doc, path, f'remove operation does not apply: doc is missing path: "{path}"')
    try:
        _remove(con, key)
    except _Refused as exc:
        raise PatchError(f"error in remove for path: '{path}': {exc}") from None
    return doc


def _replace_op(doc: Any, op: dict[str, Any]) -> Any:
    path = _path(op, "replace operation failed to decode path")
    value = copy.deepcopy(op.get("value"))
    if path == "":
        if not isinstance(value, (dict, list)):
            raise PatchError("replace operation value must be object or array: %!w(<nil>)")
        return value
    con, key = _found(doc, path, f"replace operation does not apply: doc is missing path: {path}")
    try:
        _get(con, key)  # a map's get never fails: a missing key is set, as by add
    except _Refused:
        raise PatchError(
            f"replace operation does not apply: doc is missing key: {path}: {_MISSING}"
        ) from None
    if isinstance(con, dict):
        con[key] = value
    else:
        con[_index(key, len(con))] = value
    return doc


def _move_op(doc: Any, op: dict[str, Any]) -> Any:
    source = _from(op, "move operation failed to decode from")
    con, key = _found(
        doc, source, f"move operation does not apply: doc is missing from path: {source}"
    )
    try:
        moved = _get(con, key)
        _remove(con, key)
    except _Refused as exc:
        raise PatchError(f"error in move for path: '{key}': {exc}") from None
    path = _path(op, "move operation failed to decode path")
    con, key = _found(
        doc, path, f"move operation does not apply: doc is missing destination path: {path}"
    )
    try:
        _add(con, key, moved)
    except _Refused as exc:
        raise PatchError(f"error in move for path: '{path}': {exc}") from None
    return doc


def _test_op(doc: Any, op: dict[str, Any]) -> Any:
    path = _path(op, "test operation failed to decode path")
    found = doc
    if path != "":
        con, key = _found(doc, path, f"test operation does not apply: is missing path: {path}")
        try:
            found = _get(con, key)
        except _Refused as exc:
            raise PatchError(f"error in test for path: '{path}': {exc}") from None
    # A missing key reads as null, and a missing value is null.
    if not _equal(found, op.get("value")):
        raise PatchError(f"testing value {path} failed: {_TEST_FAILED}")
    return doc


def _copy_op(doc: Any, op: dict[str, Any]) -> Any:
    source = _from(op, "copy operation failed to decode from")
    con, key = _found(
        doc, source, f"copy operation does not apply: doc is missing from path: {source}"
    )
    try:
        copied = copy.deepcopy(_get(con, key))
    except _Refused as exc:
        raise PatchError(f"error in copy for from: '{source}': {exc}") from None
    path = _plain_path(op, "copy")
    con, key = _found(
        doc, path, f"copy operation does not apply: doc is missing destination path: {path}"
    )
    try:
        _add(con, key, copied)
    except _Refused as exc:
        raise PatchError(f"error while adding value during copy: {exc}") from None
    return doc


_OPERATIONS = {
    "add": _add_op,
    "remove": _remove_op,
    "replace": _replace_op,
    "move": _move_op,
    "test": _test_op,
    "copy": _copy_op,
}


def _equal(found: Any, wanted: Any) -> bool:
    """lazyNode.equal: JSON values alike (a number is a number, true is not 1)."""
    if isinstance(found, bool) or isinstance(wanted, bool):
        return type(found) is type(wanted) and found == wanted
    if isinstance(found, dict) and isinstance(wanted, dict):
        return found.keys() == wanted.keys() and all(_equal(found[k], wanted[k]) for k in found)
    if isinstance(found, list) and isinstance(wanted, list):
        return len(found) == len(wanted) and all(map(_equal, found, wanted))
    return bool(found == wanted)


def apply_json_patch(target: Any, operations: Any) -> Any:
    """`operations` applied to a copy of `target`; PatchError in the library's words."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict):
            raise PatchError(f"invalid JSON patch operation: {op!r}")
        kind = op.get("op")
        kind = kind if isinstance(kind, str) else "unknown"
        if kind not in _OPERATIONS:
            raise PatchError(f"Unexpected kind: {kind}")
        doc = _OPERATIONS[kind](doc, op)
    return doc
