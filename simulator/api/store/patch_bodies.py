"""Patch bodies of the wrong shape, refused in kube-apiserver v1.37's words (never a 500).

kube-apiserver decodes a merge or strategic merge patch into a Go map, a JSON patch into a list
of operations and an apply patch (YAML, converted to JSON first) into a map; a body of another
JSON type is a 400 worded by Go's decoder. A `null` patch is no change for the strategic and
JSON patchers, and an error for the others.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from simulator.api.fields.fieldsets import go_map
from simulator.api.go_json import json_kind, unmarshal_error
from simulator.api.go_types import converter_error, type_error
from simulator.api.kinds import KindInfo
from simulator.api.store.errors import BadRequestError, InvalidError

__all__ = [
    "changes_nothing",
    "patched_json",
    "refuse_mistyped",
    "refuse_undeclared",
    "yaml_error",
]

_MAP = "map[string]interface {}"


def changes_nothing(patch_type: str, body: Any) -> bool:
    """True for a `null` patch that leaves the object as it is; BadRequestError when the body
    is not the JSON type the patch type decodes into."""
    if patch_type == "json":
        if body is None:
            return True
        if not isinstance(body, list):
            raise BadRequestError(
                f"error decoding patch: {unmarshal_error(body, '[]handlers.jsonPatchOp')}"
            )
        for operation in body:
            if operation is not None and not isinstance(operation, dict):
                raise BadRequestError(
                    f"error decoding patch: {unmarshal_error(operation, 'handlers.jsonPatchOp')}"
                )
        return False
    if isinstance(body, dict):
        return False
    if patch_type == "strategic":
        if body is None:
            return True
        raise BadRequestError(unmarshal_error(body, _MAP))
    if patch_type == "apply":
        if body is None:
            raise BadRequestError("invalid object type: /, Kind=")
        raise BadRequestError(
            "error decoding patch: error unmarshaling JSON: while decoding JSON: "
            + unmarshal_error(body, _MAP)
        )
    if body is None:
        raise BadRequestError("Invalid JSON Patch")  # evanphx/json-patch's MergePatch
    raise BadRequestError(f"error decoding patch: {unmarshal_error(body, _MAP)}")


def yaml_error(exc: yaml.YAMLError) -> BadRequestError:
    """An apply patch that is no YAML, as go-yaml words it (libyaml's problem, and the line as
    go-yaml counts it: the context's, else the problem's, zero-based, one more for a scanner's).

    A scanner error fails kube-apiserver's first YAML-to-JSON pass ("error encoding patch"); a
    parser error only its second ("error decoding patch: error converting YAML to JSON").
    """
    problem = str(getattr(exc, "problem", "") or "unknown problem parsing YAML content")
    scanner = isinstance(exc, yaml.scanner.ScannerError)
    line = 0
    for mark in (getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)):
        if mark is not None and mark.line:
            line = mark.line + 1 if scanner else mark.line
            break
    where = f"line {line}: " if line else ""
    if scanner:
        return BadRequestError(f"error encoding patch: yaml: {where}{problem}")
    return BadRequestError(
        f"error decoding patch: error converting YAML to JSON: yaml: {where}{problem}"
    )


def refuse_mistyped(
    info: KindInfo, live: dict[str, Any], patched: dict[str, Any], strategic: Any = None
) -> None:
    """A patch whose result Go cannot decode into the kind's type: kube-apiserver's 422, which
    quotes the patched object as JSON with the decoder's words; a strategic merge patch's
    (`strategic`, its body) quotes that patch as a Go map, with the unstructured converter's
    words. Only the patch is blamed: an object the world stored mistyped stays patchable."""
    problem = type_error(info.group, info.version, info.kind, patched)
    if problem is None or type_error(info.group, info.version, info.kind, live) is not None:
        return
    if strategic is not None and (converted := converter_error(problem)) is not None:
        raise _invalid_patch(go_map(strategic), converted)
    raise _invalid_patch(patched_json(patched), problem)


# What runtime's codec first decodes a body into, to learn its kind.
_TYPE_META = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
    'Kind string "json:\\"kind,omitempty\\"" }'
)


def refuse_non_object(patched: object) -> None:
    """A JSON patch whose result is no object (a replace of the root with an array or a
    scalar): the kind cannot be decoded from it, kube-apiserver's 422 quoting the result."""
    if isinstance(patched, dict):
        return
    quoted = json.dumps(patched, separators=(",", ":"), ensure_ascii=False)
    if patched is None:  # null decodes, and then names no kind
        raise _invalid_patch(quoted, "Object 'Kind' is missing in 'null'")
    raise _invalid_patch(
        quoted,
        "couldn't get version/kind; json parse error: json: cannot unmarshal "
        f"{json_kind(patched)} into Go value of type {_TYPE_META}",
    )


def refuse_undeclared(quoted: str, undeclared: list[str]) -> None:
    """A patch under fieldValidation=Strict that brings fields the kind does not declare:
    kube-apiserver's 422 quoting `quoted` (a strategic merge patch's body as a Go map,
    `go_map`; a merge or JSON patch's result as JSON, `patched_json`)."""
    if undeclared:
        raise _invalid_patch(quoted, f"strict decoding error: {', '.join(undeclared)}")


def patched_json(patched: dict[str, Any]) -> str:
    """A patched object as the 422 quotes it: JSON with sorted keys (a custom resource's is
    exactly that there; a built-in's keeps its Go struct order below what the patch touched)."""
    return json.dumps(patched, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _invalid_patch(quoted: str, problem: str) -> InvalidError:
    message = f"Invalid value: {json.dumps(quoted, ensure_ascii=False)}: {problem}"
    return InvalidError(
        f' "" is invalid: patch: {message}',
        causes=[{"reason": "FieldValueInvalid", "message": message, "field": "patch"}],
    )
