"""Malformed requests refused as kube-apiserver v1.37 refuses them: the same code, reason and words.

Clients show a refusal's `reason` and `message` (kubectl prints the message), so a request the
real server refuses must be refused here in its words, and never answered 500. Each check runs
where kube-apiserver's handler runs it: options before the body, the body's syntax before the
stored object is read, its Go types before validation. The texts are Go's (strconv, encoding/json
through `go_json`, apimachinery's decoders and option validation).
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec

from simulator.api.asgi import Request, Route, first
from simulator.api.go_json import json_kind, syntax_error
from simulator.api.go_types import component_error, type_error
from simulator.api.kind_registry import KindRegistry
from simulator.api.kinds import SUBRESOURCES, KindInfo
from simulator.api.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    check_field_selector,
    parse_field_selector,
    parse_label_selector,
)
from simulator.api.store import (
    BadRequestError,
    InvalidError,
    NotFoundError,
    StoreError,
    UnsupportedMediaTypeError,
    status_body,
)

__all__ = [
    "MethodNotAllowedError",
    "check_delete_options",
    "check_list_options",
    "check_patch_syntax",
    "check_version_match",
    "check_write_options",
    "decode_delete_options",
    "decode_typed_body",
    "int_param",
    "page_not_found",
    "query_selectors",
    "refuse_method",
    "refuse_unserved",
    "unsupported_patch_media_type",
]

_DEC = msgspec.json.Decoder()
_ENC = msgspec.json.Encoder()
_INT = re.compile(r"[+-]?[0-9]+")
_UINT = re.compile(r"[0-9]+")
_FIELD_VALIDATIONS = ("", "Ignore", "Strict", "Warn")
_PROPAGATIONS = ("Foreground", "Background", "Orphan")
# The struct apimachinery decodes first to find a body's kind (serializer/json/meta.go).
_TYPE_META = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
    'Kind string "json:\\"kind,omitempty\\"" }'
)
_DELETE_OPTIONS = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"


class MethodNotAllowedError(StoreError):
    """405: a verb the path does not take (POST on a named object, PUT on a collection)."""

    code = 405
    reason = "MethodNotAllowed"

    def __init__(self) -> None:
        super().__init__("the server does not allow this method on the requested resource")


def unsupported_patch_media_type() -> StoreError:
    """A PATCH whose Content-Type is no patch type: kube-apiserver's bare 415."""
    return UnsupportedMediaTypeError("415: Unsupported Media Type")


def _parse_int(text: str, *, unsigned: bool = False) -> int:
    """strconv.ParseInt / ParseUint (base 10, 64 bits), with Go's error text."""
    function = "ParseUint" if unsigned else "ParseInt"
    if not (_UINT if unsigned else _INT).fullmatch(text):
        raise ValueError(f'strconv.{function}: parsing "{text}": invalid syntax')
    value = int(text)
    if not (0 <= value < 2**64 if unsigned else -(2**63) <= value < 2**63):
        raise ValueError(f'strconv.{function}: parsing "{text}": value out of range')
    return value


def int_param(query: dict[str, list[str]], name: str) -> int | None:
    """An integer query parameter, None when absent; a 400 in Go's words when not a number."""
    text = first(query, name)
    if not text:
        return None
    try:
        return _parse_int(text)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from exc


def check_list_options(query: dict[str, list[str]]) -> None:
    """ListOptions a list refuses before reading: limit, timeoutSeconds, resourceVersion."""
    int_param(query, "limit")
    int_param(query, "timeoutSeconds")
    version = first(query, "resourceVersion")
    if version:
        try:
            _parse_int(version, unsigned=True)
        except ValueError as exc:
            raise BadRequestError(
                f'invalid resource version: resourceVersion: Invalid value: "{version}": {exc}'
            ) from exc
    check_version_match(query, watch=False)


def query_selectors(
    query: dict[str, list[str]], info: KindInfo
) -> tuple[LabelSelector, FieldSelector]:
    """A list's or a watch's labelSelector and fieldSelector, refused (400) in apimachinery's
    words when malformed or when the kind has no such field label."""
    try:
        labels = parse_label_selector(first(query, "labelSelector") or None)
        fields = parse_field_selector(first(query, "fieldSelector") or None)
        check_field_selector(fields, info)
    except SelectorError as exc:
        raise BadRequestError(str(exc)) from exc
    return labels, fields


# apimachinery's ValidateListOptions, field resourceVersionMatch unless named.
_MATCH_FORBIDDEN = {
    "initial": "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
    "watch": "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
    "version": "resourceVersionMatch is forbidden unless resourceVersion is provided",
    "continue": "resourceVersionMatch is forbidden when continue is provided",
    "exact": 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
    "list": "sendInitialEvents is forbidden for list",
}


def check_version_match(query: dict[str, list[str]], *, watch: bool) -> None:
    """resourceVersionMatch and sendInitialEvents as apimachinery's ValidateListOptions allows
    them (a 422 for ListOptions): a list's match needs a resourceVersion and no continue, and
    is Exact (never for "0") or NotOlderThan; a watch's only goes with sendInitialEvents, which
    needs NotOlderThan; a list never sends initial events."""
    match, initial = first(query, "resourceVersionMatch"), "sendInitialEvents" in query
    version, after = first(query, "resourceVersion"), first(query, "continue")
    allowed = ("NotOlderThan",) if watch else ("Exact", "NotOlderThan", "")
    unsupported = (
        [
            (
                "resourceVersionMatch",
                f'Unsupported value: "{match}": supported values: {_supported(allowed)}',
            )
        ]
        if match and match not in allowed
        else []
    )
    continued = [_forbid("continue")] if match and after else []
    if watch:  # in Go's order, which differs between the two
        errors = [_forbid("initial")] if initial and match != "NotOlderThan" else []
        errors += [_forbid("watch")] if match and not initial else []
        errors += unsupported + continued
    else:
        errors = [_forbid("version")] if match and not version else []
        errors += continued + unsupported
        errors += [_forbid("exact")] if match == "Exact" and version == "0" else []
        errors += [_forbid("list", "sendInitialEvents")] if initial else []
    if errors:
        raise _invalid_options("ListOptions", errors)


def _forbid(key: str, field: str = "resourceVersionMatch") -> tuple[str, str]:
    return field, f"Forbidden: {_MATCH_FORBIDDEN[key]}"


def _invalid_options(options: str, errors: list[tuple[str, str]]) -> InvalidError:
    """422 naming the options kind, as apimachinery's field.ErrorList prints one or several."""
    shown = [f"{field}: {message}" for field, message in errors]
    listed = shown[0] if len(shown) == 1 else f"[{', '.join(shown)}]"
    return InvalidError(
        f'{options}.meta.k8s.io "" is invalid: {listed}',
        group="meta.k8s.io",
        kind=options,
        causes=[
            {"reason": _reason(message), "message": message, "field": field}
            for field, message in errors
        ],
    )


def _reason(message: str) -> str:
    return "FieldValueForbidden" if message.startswith("Forbidden") else "FieldValueNotSupported"


def _supported(values: tuple[str, ...]) -> str:
    return ", ".join(f'"{value}"' for value in values)


def _dry_run_errors(values: list[Any]) -> list[tuple[str, str]]:
    if all(value == "All" for value in values):
        return []
    shown = json.dumps(values, separators=(",", ":"))
    return [("dryRun", f'Unsupported value: {shown}: supported values: "All"')]


def check_write_options(req: Request, options: str) -> None:
    """CreateOptions, UpdateOptions, PatchOptions: dryRun and fieldValidation (422 when bad)."""
    errors = _dry_run_errors(req.query.get("dryRun", []))
    validation = req.param("fieldValidation")
    if validation not in _FIELD_VALIDATIONS:
        supported = _supported(_FIELD_VALIDATIONS)
        message = f'Unsupported value: "{validation}": supported values: {supported}'
        errors.append(("fieldValidation", message))
    if errors:
        raise _invalid_options(options, errors)


def check_delete_options(options: dict[str, Any]) -> None:
    """DeleteOptions' validation: propagationPolicy (not with the old orphanDependents) and
    dryRun (422 when bad)."""
    errors = []
    policy = options.get("propagationPolicy")
    if policy is not None and options.get("orphanDependents") is not None:
        message = "orphanDependents and deletionPropagation cannot be both set"
        errors.append(("propagationPolicy", f"Invalid value: {json.dumps(policy)}: {message}"))
    if policy is not None and policy not in _PROPAGATIONS:
        supported = _supported((*_PROPAGATIONS, "nil"))
        message = f'Unsupported value: "{policy}": supported values: {supported}'
        errors.append(("propagationPolicy", message))
    errors += _dry_run_errors(list(options.get("dryRun") or []))
    if errors:
        raise _invalid_options("DeleteOptions", errors)


def _type_meta(body: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The body as an object, or why apimachinery could not read its apiVersion and kind."""
    try:
        obj = _DEC.decode(body)  # one decode when the body is JSON (nearly always)
    except msgspec.DecodeError:
        problem = syntax_error(body)
        if problem is not None:
            return None, problem
        raise  # JSON to Go's scanner that msgspec still refuses: msgspec's own error
    if obj is None:
        return {}, None  # null decodes as an empty object
    if not isinstance(obj, dict):
        return None, f"json: cannot unmarshal {json_kind(obj)} into Go value of type {_TYPE_META}"
    for key in ("apiVersion", "kind"):
        if key in obj and obj[key] is not None and not isinstance(obj[key], str):
            return None, (
                f"json: cannot unmarshal {json_kind(obj[key])} into Go struct field .{key} of type "
                "string"
            )
    return obj, None


def _summary(body: bytes, limit: int = 30) -> str:
    """How kube-apiserver quotes a body it cannot read (`summarizeData`)."""
    if not body:
        return "<empty>"
    if body[:1] == b"{":
        text = body[:limit].decode("utf-8", errors="replace")
        return text + " ..." if len(body) > limit else text
    return body[:limit].hex() + (" ..." if len(body) > limit else "")


def decode_typed_body(body: bytes, info: KindInfo, registry: KindRegistry) -> dict[str, Any]:
    """A create or update body for a built-in kind, decoded as kube-apiserver's Go decoder
    would: a 400 in its words for malformed JSON, another kind, or a field of the wrong type."""
    obj, problem = _type_meta(body)
    if obj is None:
        raise BadRequestError(
            f"the object provided is unrecognized (must be of type {info.kind}): couldn't get "
            f"version/kind; json parse error: {problem} ({_summary(body)})"
        )
    api_version = obj.get("apiVersion") or info.api_version
    kind = obj.get("kind") or info.kind
    version = api_version.rpartition("/")[2]

    def refused(reason: str) -> BadRequestError:
        return BadRequestError(
            f'{kind} in version "{version}" cannot be handled as a {info.kind}: {reason}'
        )

    if (api_version, kind) != (info.api_version, info.kind):
        if (api_version.rpartition("/")[0], kind) == (info.group, info.kind):
            return obj  # another version of the same kind: kube-apiserver converts it
        other = registry.by_kind(api_version, kind)
        if other is None or other.crd_name or other.kind != kind:
            raise refused(
                f'no kind "{kind}" is registered for version "{api_version}" in scheme '
                '"pkg/runtime/scheme.go:111"'
            )
        internal = info.group.split(".")[0] or "core"
        raise refused(
            f"converting ({version}.{kind}) to ({internal}.{info.kind}): unknown conversion"
        )
    mismatch = type_error(info.group, info.version, info.kind, obj)
    if mismatch is not None:
        raise refused(mismatch)
    return obj


def decode_delete_options(body: bytes) -> dict[str, Any]:
    """A DELETE body (DeleteOptions), refused in kube-apiserver's words when malformed."""
    obj, problem = _type_meta(body)
    if obj is None:
        raise BadRequestError(f"couldn't get version/kind; json parse error: {problem}")
    mismatch = component_error("", "v1", _DELETE_OPTIONS, obj)
    if mismatch is not None:
        raise BadRequestError(mismatch)
    return obj


def check_patch_syntax(body: bytes, patch_type: str) -> None:
    """A JSON-typed patch that is no JSON at all is refused before the object is read."""
    if patch_type != "apply" and syntax_error(body) is not None:
        raise BadRequestError("invalid JSON patch")


def refuse_method(verb: str, route: Route) -> None:
    """405 for a create on a named object, an update or a patch of a collection, and a verb a
    subresource does not take (a GET of a namespace's finalize): paths kube-apiserver serves,
    with verbs they do not take."""
    if (verb == "create" and route.name and not route.subresource) or (
        verb in ("update", "patch") and not route.name
    ):
        raise MethodNotAllowedError
    if route.subresource and verb not in SUBRESOURCES.get(route.subresource, (None, ()))[1]:
        raise MethodNotAllowedError


# The verbs go-restful serves at each kind of path, when the kind's storage takes them.
_COLLECTION_VERBS = frozenset({"list", "watch", "create", "deletecollection"})
_OBJECT_VERBS = frozenset({"get", "update", "patch", "delete"})
_ACROSS_NAMESPACES_VERBS = frozenset({"list", "watch"})


def refuse_unserved(verb: str, route: Route) -> None:
    """A verb the kind does not take, refused by the router before any handler (so with no
    deprecation warning): 404 where no route is registered at the path for any verb (a
    create-only kind's named objects, its list across namespaces), 405 where the path has
    routes for other verbs (a GET of tokenreviews, a POST of componentstatuses). A watch of a
    kind that lists but cannot watch is its list handler's to refuse."""
    info = route.info
    if route.subresource or verb in info.verbs or (verb == "watch" and "list" in info.verbs):
        return
    if route.name:
        served = _OBJECT_VERBS
    elif info.namespaced and not route.namespace:
        served = _ACROSS_NAMESPACES_VERBS
    else:
        served = _COLLECTION_VERBS
    if served.isdisjoint(info.verbs):
        raise NotFoundError("the server could not find the requested resource")
    raise MethodNotAllowedError


def page_not_found(path: str, registry: KindRegistry) -> tuple[bytes, bytes]:
    """The body and content type of a 404 for a path no API serves: kube-apiserver's Status
    under /api and under a group it serves, Go's plain `404 page not found` anywhere else."""
    parts = [part for part in path.split("/") if part]
    served = {group for group, _ in registry.groups()}
    if parts[:1] == ["api"] or (parts[:1] == ["apis"] and len(parts) > 1 and parts[1] in served):
        message = "the server could not find the requested resource"
        return _ENC.encode(status_body(404, "NotFound", message)), b"application/json"
    return b"404 page not found\n", b"text/plain; charset=utf-8"
