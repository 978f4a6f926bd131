"""The CRUD verbs of the fake API: get, list, create, update, patch, delete, deletecollection."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple, cast

import msgspec

from simulator.api import tables
from simulator.api.asgi import Host, Request, Route, truthy
from simulator.api.certificates import stamp_requester
from simulator.api.fields.fieldsets import go_map
from simulator.api.kinds import KindInfo
from simulator.api.list_pages import list_page
from simulator.api.media_types import TABLE, metadata_list, metadata_of
from simulator.api.pod_warnings import generation_before, written_pod_warnings
from simulator.api.protobuf import PROTOBUF, ProtobufError, decode_protobuf_object
from simulator.api.rbac import UserInfo
from simulator.api.request_errors import (
    check_delete_options,
    check_patch_syntax,
    check_write_options,
    decode_delete_options,
    decode_typed_body,
    int_param,
    unsupported_patch_media_type,
)
from simulator.api.reviews import review
from simulator.api.store import BadRequestError, InvalidError, UnsupportedMediaTypeError
from simulator.api.store.object_meta import dedup_owner_references
from simulator.api.store.patch_bodies import patched_json, refuse_undeclared
from simulator.api.store.pod_app_armor import app_armor_warnings
from simulator.api.store.rules import not_found, parse_patch_body
from simulator.api.subject_reviews import SUBJECT_REVIEWS
from simulator.api.validation import undeclared_fields
from simulator.api.warning_headers import warning_header, with_warnings

__all__ = ["PATCH_TYPES", "Crud", "decode_object", "field_manager_of"]

_ENC = msgspec.json.Encoder()
_DEC = msgspec.json.Decoder()
_MAX_MANAGER_BYTES = 128
PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}


class Crud:
    """The handlers of the resource verbs, each answering one request through the host."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def _decode(self, req: Request, info: KindInfo) -> dict[str, Any]:
        """A create or update body: a built-in kind's JSON as Go decodes it into its type."""
        content_type = req.header(b"content-type")
        if info.crd_name or content_type.startswith(PROTOBUF):
            return decode_object(req.body, content_type)
        return decode_typed_body(req.body, info, self.host.store.registry)

    async def get(self, req: Request, route: Route, user: UserInfo) -> int:
        info = route.info
        obj = self._stored(route)
        if obj is None:
            raise not_found(info, route.name)
        return await self.send_object(req, 200, info, obj)

    async def create(self, req: Request, route: Route, user: UserInfo) -> int:
        info = route.info
        check_write_options(req, "CreateOptions")
        obj = self._decode(req, info)
        if info.group in ("authorization.k8s.io", "authentication.k8s.io"):
            manager = field_manager_of(req, "CreateOptions")
            if info.plural in SUBJECT_REVIEWS:  # a local review takes its namespace from the URL
                _check_identity(info, route, obj, creating=True)
            return await review(self.host, req.send, user, info, obj, manager)
        _check_identity(info, route, obj, creating=True)
        warnings = _decoded(req, info, obj)
        req.send = with_warnings(req.send, app_armor_warnings(info, obj))  # errors' too
        stamp_requester(info, obj, user)
        created = self.host.store.create(
            obj,
            dry_run=_dry_run(req),
            strict=True,
            field_manager=field_manager_of(req, "CreateOptions"),
            copy=False,  # the body was decoded for this request; the answer is only encoded
        )
        warnings += written_pod_warnings(self.host.store, route, created, None)
        return await self.send_object(req, 201, info, created, warnings)

    async def update(self, req: Request, route: Route, user: UserInfo) -> int:
        info = route.info
        check_write_options(req, "UpdateOptions")
        obj = self._decode(req, info)
        _check_identity(info, route, obj, creating=False)
        warnings, before = _decoded(req, info, obj), generation_before(self.host.store, route)
        updated = self.host.store.replace(
            obj,
            subresource=route.subresource or None,
            dry_run=_dry_run(req),
            strict=True,
            field_manager=field_manager_of(req, "UpdateOptions"),
        )
        warnings += written_pod_warnings(self.host.store, route, updated, before)
        return await self.send_object(req, 200, info, updated, warnings)

    def _stored(self, route: Route) -> dict[str, Any] | None:
        info = route.info
        return self.host.store.get(
            info.api_version, info.plural, route.name, route.namespace or None
        )

    def _undeclared_now(self, route: Route) -> list[str]:
        """What the stored object holds that its kind does not declare (the world's writes are
        not decoded): a strict patch is refused only for what it brings."""
        stored = self._stored(route)
        return undeclared_fields(stored, route.info, prune=False) if stored else []

    async def patch(self, req: Request, route: Route, user: UserInfo) -> int:
        info = route.info
        content_type = req.header(b"content-type").split(";")[0].strip()
        patch_type = PATCH_TYPES.get(content_type)
        if patch_type is None:
            raise unsupported_patch_media_type()
        if patch_type == "strategic" and info.crd_name:
            raise UnsupportedMediaTypeError(
                "the body of the request was in an unknown format - accepted media types "
                "include: application/json-patch+json, application/merge-patch+json, "
                "application/apply-patch+yaml"
            )
        # kube-apiserver's order: the options, the body's syntax, then the stored object.
        manager = field_manager_of(req, "PatchOptions", applying=patch_type == "apply")
        check_write_options(req, "PatchOptions")
        check_patch_syntax(req.body, patch_type)
        strict = req.param("fieldValidation") == "Strict"
        if strict and patch_type == "strategic":  # its body is checked, and quoted as a Go map
            body = _decode_patch(req.body, patch_type)
            refuse_undeclared(go_map(body), undeclared_fields(body, info, prune=False))
        # A merge or JSON patch's result is checked, and quoted as JSON.
        checks_result = strict and patch_type in ("merge", "json")
        had = self._undeclared_now(route) if checks_result else []
        warnings: list[str] = []

        def warn_of(patched: dict[str, Any]) -> None:
            if checks_result:
                brought = undeclared_fields(patched, info, prune=False)
                refuse_undeclared(patched_json(patched), [f for f in brought if f not in had])
            warnings.extend(_decoded(req, info, patched, refusing=False))

        # Server-side apply creates an absent object and then answers 201, as kube-apiserver does.
        creating = patch_type == "apply" and not route.subresource and self._stored(route) is None
        before = generation_before(self.host.store, route)
        patched = self.host.store.patch(
            info.api_version,
            info.plural,
            route.name,
            req.body,
            cast(Any, patch_type),
            route.namespace or None,
            route.subresource or None,
            dry_run=_dry_run(req),
            strict=True,
            field_manager=manager,
            force=truthy(req.param("force")),
            # The patched object is decoded, its undeclared fields dropped (not an apply's
            # result: the field manager judges that).
            decoded=warn_of,
        )
        warnings += written_pod_warnings(self.host.store, route, patched, before)
        return await self.send_object(req, 201 if creating else 200, info, patched, warnings)

    async def delete(self, req: Request, route: Route, user: UserInfo) -> int:
        info = route.info
        options = _delete_options(req)
        deleted = self.host.store.delete(
            info.api_version,
            info.plural,
            route.name,
            route.namespace or None,
            preconditions=options.preconditions,
            **options.how(),
        )
        meta = deleted["metadata"]
        if meta.get("deletionTimestamp") or (info.group, info.plural) in _RETURN_DELETED:
            return await self.send_object(req, 200, info, deleted)
        # Gone at once: most registries answer with a Status that names what was deleted.
        details = {"name": meta["name"], "group": info.group, "kind": info.plural}
        details["uid"] = meta.get("uid", "")
        body = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {k: v for k, v in details.items() if v},
        }
        await self.host.respond(req.send, 200, _ENC.encode(body))
        return 200

    async def delete_collection(self, req: Request, route: Route, user: UserInfo) -> int:
        info = route.info
        rv = self.host.store.resource_version  # the list's: the answer is the list as it was
        items = self.host.store.list(
            info.api_version,
            info.plural,
            route.namespace or None,
            req.param("labelSelector") or None,
            req.param("fieldSelector") or None,
        )
        how = _delete_options(req).how()
        for meta in (item["metadata"] for item in items):
            self.host.store.delete(
                info.api_version, info.plural, meta["name"], meta.get("namespace"), **how
            )
        typed = [{k: v for k, v in i.items() if k not in ("apiVersion", "kind")} for i in items]
        meta, listed = {"resourceVersion": str(rv)}, items if info.crd_name else typed
        doc = {"kind": info.list_kind_name, "apiVersion": info.api_version, "metadata": meta}
        await self.host.respond(req.send, 200, _ENC.encode({**doc, "items": listed}))
        return 200

    async def send_object(
        self,
        req: Request,
        code: int,
        info: KindInfo,
        obj: dict[str, Any],
        warnings: list[str] | None = None,
    ) -> int:
        send, headers = req.send, [(b"warning", warning_header(w)) for w in warnings or ()]
        answer = req.answer
        if answer.convert == TABLE:
            doc = tables.table(
                info,
                [obj],
                self.host.store.clock.now(),
                str(obj["metadata"].get("resourceVersion", "")),
            )
            await self.host.respond(send, code, _ENC.encode(doc), headers=headers)
        elif answer.convert:
            doc = metadata_of(answer, info, obj)
            await self.host.respond(send, code, _ENC.encode(doc), headers=headers)
        else:
            await self.host.respond(send, code, _ENC.encode(obj), headers=headers)
        return code

    async def list(self, req: Request, route: Route, user: UserInfo) -> int:
        info, send = route.info, req.send
        items, meta = list_page(self.host.store, info, route.namespace or None, req.query)
        answer = req.answer
        if answer.convert == TABLE:
            now = self.host.store.clock.now()
            doc = tables.table(info, items, now, meta["resourceVersion"], listed=True)
            doc["metadata"].update(meta)
            await self.host.respond(send, 200, _ENC.encode(doc))
            return 200
        if answer.convert:
            doc = metadata_list(answer, info, meta, items)
            await self.host.respond(send, 200, _ENC.encode(doc))
            return 200
        if info.crd_name:
            # A custom resource list's metadata always says `continue`, empty when there is no more.
            meta.setdefault("continue", "")
        # {"kind","apiVersion","metadata","items"}, with each item's cached JSON spliced in.
        head = _ENC.encode(
            {"kind": info.list_kind_name, "apiVersion": info.api_version, "metadata": meta}
        )
        body = b"".join(
            (head[:-1], b',"items":[', b",".join(self.host.store.encoded(info, items)), b"]}\n")
        )
        await self.host.respond(send, 200, body)
        return 200


def _decode_patch(body: bytes, patch_type: str) -> dict[str, Any]:
    doc = parse_patch_body(body, patch_type)
    return doc if isinstance(doc, dict) else {}  # the store refuses other shapes, in Go's words


def _decoded(
    req: Request, info: KindInfo, obj: dict[str, Any], *, refusing: bool = True
) -> list[str]:
    """`obj` without the fields its kind does not declare, as kube-apiserver decodes it (by
    fieldValidation: Strict refuses them, 400, a patch's before with its 422; Warn, the default,
    warns of each; Ignore says nothing), then its owner references deduplicated, warned of."""
    mode = req.param("fieldValidation") or "Warn"
    undeclared = undeclared_fields(obj, info, prune=True)
    if mode == "Strict" and refusing:
        _refuse_undeclared(info, undeclared)
    said = undeclared if mode == "Warn" else []  # a patch's owners after admission (`refusing`)
    return said + dedup_owner_references(obj, after_admission=not refusing)


def _refuse_undeclared(info: KindInfo, undeclared: list[str]) -> None:
    if undeclared:
        raise BadRequestError(
            f'{info.kind} in version "{info.version}" cannot be handled as a {info.kind}: '
            f"strict decoding error: {', '.join(undeclared)}"
        )


def field_manager_of(req: Request, options: str, *, applying: bool = False) -> str:
    """Who writes: `fieldManager`, else the user agent's product (`kubectl`, `OpenAPI-Generator`),
    checked as kube-apiserver checks its write options (422s naming the options kind)."""
    given = req.param("fieldManager")

    def invalid(reason: str, message: str) -> InvalidError:
        return InvalidError(
            f'{options}.meta.k8s.io "" is invalid: fieldManager: {message}',
            group="meta.k8s.io",
            kind=options,
            causes=[{"reason": reason, "message": message, "field": "fieldManager"}],
        )

    if len(given.encode()) > _MAX_MANAGER_BYTES:
        raise invalid("FieldValueTooLong", "Too long: may not be more than 128 bytes")
    if applying and not given:
        raise invalid("FieldValueRequired", "Required value: is required for apply patch")
    if options == "PatchOptions" and not applying and req.param("force"):
        raise InvalidError(
            f'{options}.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for '
            "non-apply patch",
            group="meta.k8s.io",
            kind=options,
            causes=[
                {
                    "reason": "FieldValueForbidden",
                    "message": "Forbidden: may not be specified for non-apply patch",
                    "field": "force",
                }
            ],
        )
    if given:
        return given
    return _manager_of_user_agent(req.header(b"user-agent"))


@functools.lru_cache(maxsize=64)  # a handful of clients, each sending one user agent
def _manager_of_user_agent(user_agent: str) -> str:
    product = user_agent.split("/", maxsplit=1)[0]
    printable = "".join(c for c in product if c.isprintable())
    # No user agent either: kube-apiserver still tracks the write, as manager "unknown".
    return printable.encode()[:_MAX_MANAGER_BYTES].decode(errors="ignore") or "unknown"


class _DeleteOptions(NamedTuple):
    propagation: str | None
    grace_period: int | None
    preconditions: dict[str, str]
    dry_run: bool

    def how(self) -> dict[str, Any]:
        """The store's keywords for each delete, preconditions aside."""
        return {k: v for k, v in self._asdict().items() if k != "preconditions"}


def _delete_options(req: Request) -> _DeleteOptions:
    """DeleteOptions (body or query): propagationPolicy (`orphanDependents` is the old word),
    gracePeriodSeconds, the preconditions and dryRun (kubectl sends it in the body)."""
    options: dict[str, Any] = {}
    content_type = req.header(b"content-type")
    if req.body and content_type.startswith(PROTOBUF):
        options = decode_object(req.body, content_type)  # helm's client sends protobuf
    elif req.body:
        options = decode_delete_options(req.body)
    policy = options.get("propagationPolicy") or req.param("propagationPolicy") or None
    dry_run = options.get("dryRun") or req.query.get("dryRun")
    orphan = options.get("orphanDependents", req.param("orphanDependents") or None)
    check_delete_options(
        {"propagationPolicy": policy, "dryRun": dry_run, "orphanDependents": orphan}
    )
    if policy is None and orphan in (True, "true"):
        policy = "Orphan"
    grace = options.get("gracePeriodSeconds")
    seconds = int(grace) if grace is not None else int_param(req.query, "gracePeriodSeconds")
    wanted = options.get("preconditions") or {}
    return _DeleteOptions(
        propagation=str(policy) if policy else None,
        grace_period=seconds,
        preconditions={k: str(v) for k in ("uid", "resourceVersion") if (v := wanted.get(k))},
        dry_run=_dry_run(req) or (isinstance(dry_run, list) and "All" in dry_run),
    )


def _dry_run(req: Request) -> bool:
    return "All" in req.query.get("dryRun", [])


def decode_object(body: bytes, content_type: str) -> dict[str, Any]:
    """A request body (JSON, or Kubernetes protobuf) as a JSON object."""
    if content_type.startswith(PROTOBUF):
        try:
            return decode_protobuf_object(body)
        except ProtobufError as exc:
            raise UnsupportedMediaTypeError(str(exc)) from exc
    try:
        obj = _DEC.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequestError(f"error decoding request body: {exc}") from exc
    if not isinstance(obj, dict):
        raise BadRequestError("the request body must be a JSON object")
    return obj


def _check_identity(info: KindInfo, route: Route, obj: dict[str, Any], *, creating: bool) -> None:
    """The URL decides kind and namespace; a body that disagrees is a 400, as on a real server."""
    obj.setdefault("apiVersion", info.api_version)
    obj.setdefault("kind", info.kind)
    if obj.get("kind") != info.kind:
        raise BadRequestError(
            f"the API version in the data ({obj.get('apiVersion')}) does not match the expected "
            f"API version ({info.api_version})"
            if obj.get("apiVersion") != info.api_version
            else f"kind {obj.get('kind')} does not match the resource {info.plural}"
        )
    obj["apiVersion"] = info.api_version
    meta = obj.setdefault("metadata", {})
    if info.namespaced:
        body_ns = meta.get("namespace")
        if body_ns and body_ns != route.namespace:
            raise BadRequestError(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        meta["namespace"] = route.namespace
    if not creating and route.name and meta.get("name") != route.name:
        raise BadRequestError(
            f"the name of the object ({meta.get('name') or ''}) does not match the name on the "
            f"URL ({route.name})"
        )


# The registries that answer a delete with the deleted object itself (`ReturnDeletedObject` in
# k8s.io/kubernetes v1.37 pkg/registry); every other one answers with a Status.
_RETURN_DELETED = frozenset(
    {
        ("", plural)
        for plural in (
            "namespaces",
            "persistentvolumeclaims",
            "persistentvolumes",
            "pods",
            "podtemplates",
            "resourcequotas",
            "serviceaccounts",
            "services",
        )
    }
    | {
        ("storage.k8s.io", plural)
        for plural in (
            "csidrivers",
            "csinodes",
            "storageclasses",
            "volumeattachments",
            "volumeattributesclasses",
        )
    }
    | {
        ("resource.k8s.io", plural)
        for plural in (
            "deviceclasses",
            "resourceclaims",
            "resourceclaimtemplates",
            "resourcepoolstatusrequests",
            "resourceslices",
        )
    }
)
