"""What kube-apiserver checks in every object's metadata beyond its name: label keys and values,
annotation keys and their total size (apimachinery's ValidateObjectMeta), and on an update the
identity a write may not change (name and namespace: 400, the uid: 422).

The messages are apimachinery v1.37's own (`pkg/util/validation`): a client shows the same
refusal on both backends, and the judge test compares them with a real control plane.
"""

from __future__ import annotations

from typing import Any

from simulator.api.kinds import KindInfo, is_crd
from simulator.api.names import (
    kube_finalizer_refused,
    label_key_errors,
    label_value_errors,
    resource_label,
)
from simulator.api.store.certificate_rules import (
    certificate_request_errors,
    is_certificate_request,
)
from simulator.api.store.crd_rules import crd_spec_errors, crd_update_errors
from simulator.api.store.cron_schedule import cronjob_errors
from simulator.api.store.errors import (
    BadRequestError,
    ConflictError,
    InvalidError,
    UnknownReasonError,
)
from simulator.api.store.event_rules import event_errors, event_update_errors
from simulator.api.store.go_values import struct_value
from simulator.api.store.immutable_specs import immutable_errors
from simulator.api.store.ingress_budget_rules import ingress_budget_errors
from simulator.api.store.kind_rules import content_errors, update_errors
from simulator.api.store.namespaces import finalizer_errors, is_namespace
from simulator.api.store.pod_rules import pod_errors
from simulator.api.store.schema_validation import custom_resource_errors
from simulator.api.store.trust_bundle_rules import (
    is_trust_bundle,
    trust_bundle_errors,
    trust_bundle_name_errors,
)
from simulator.api.store.workload_rules import errors_after_template, spec_errors

__all__ = [
    "check_metadata",
    "check_update",
    "dedup_owner_references",
    "drop_empty_metadata",
    "invalid_object",
]

_ANNOTATIONS_LIMIT = 256 * 1024


def check_metadata(
    info: KindInfo,
    obj: dict[str, Any],
    name_errors: list[str],
    *,
    spec: bool = True,
    last: list[str] | None = None,
    creating: bool = True,
) -> None:
    """InvalidError (one 422 naming every error, as kube-apiserver aggregates them) when the
    labels or annotations are not valid, or (`spec`: the API's writes) the owner references,
    the finalizers (some only when `creating`) or what the kind checks in its spec;
    `name_errors` are the name's, which come first, `last` those that come after the spec's
    (an update's, a custom resource's schema's)."""
    meta = obj["metadata"]
    errors = list(name_errors)
    labels = meta.get("labels")
    for key, value in labels.items() if isinstance(labels, dict) else ():
        errors += [_invalid("labels", key, e) for e in label_key_errors(str(key))]
        errors += [_invalid("labels", value, e) for e in label_value_errors(str(value))]
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        for key in annotations:  # case does not matter in an annotation's key
            errors += [_invalid("annotations", key, e) for e in label_key_errors(str(key).lower())]
        size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items())
        if size > _ANNOTATIONS_LIMIT:
            errors.append(
                f"metadata.annotations: Too long: may not be more than {_ANNOTATIONS_LIMIT} bytes"
            )
    if spec:  # the world's own writes bind a recording's references without uids later
        errors += _owner_errors(meta.get("ownerReferences"))
        errors += _finalizer_errors(meta.get("finalizers"), creating, builtin=not info.crd_name)
    if spec and not info.crd_name:
        errors += content_errors(info.group, info.kind, obj)
        errors += finalizer_errors(obj, indexed=False) if creating and is_namespace(info) else []
        errors += spec_errors(info.group, info.kind, obj)
        errors += pod_errors(info.group, info.kind, obj)
        errors += errors_after_template(info.group, info.kind, obj)
        errors += ingress_budget_errors(info.group, info.kind, obj, creating=creating)
        errors += cronjob_errors(obj) if (info.group, info.kind) == ("batch", "CronJob") else []
        errors += event_errors(info, obj) if creating else []
        errors += crd_spec_errors(obj) if is_crd(info) else []
        csr = creating and is_certificate_request(info)
        errors += certificate_request_errors(obj) if csr else []
        errors += trust_bundle_errors(obj) if creating and is_trust_bundle(info) else []
    errors += last or []
    if errors:
        raise invalid_object(info, str(meta.get("name") or ""), errors)


def check_update(
    info: KindInfo,
    live: dict[str, Any],
    candidate: dict[str, Any],
    patching: bool,
    *,
    strict: bool,
    merged: dict[str, Any] | None = None,
    spec: bool = True,
) -> None:
    """What a write of an existing object may not do, in kube-apiserver's order: change a
    patch's name or namespace (400, the patch handler's check against the URL), name another
    uid (a PUT's is a precondition, 409) or a resourceVersion other than the stored one (409,
    the optimistic lock: an update's from its body, a patch's when the patch sets one, as
    kubectl's move from client-side to server-side apply does), then change the uid (422,
    immutable) or break the metadata's rules (422; the API's writes only), change what a
    built-in kind's spec may not (`spec`: not a subresource's write; the candidate is decoded,
    defaulted and admitted by then, as kube-apiserver validates it), and a custom resource
    (`merged`: the object the write would store) its schema, ratcheted."""
    live_meta, meta = live["metadata"], candidate.get("metadata")
    if not isinstance(meta, dict):
        return
    name, namespace = str(live_meta.get("name", "")), str(live_meta.get("namespace", ""))
    if patching and meta.get("name") not in (None, "", name):
        raise BadRequestError(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
        )
    if patching and info.namespaced and meta.get("namespace") not in (None, "", namespace):
        raise BadRequestError(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    uid = meta.get("uid")
    other_uid = bool(uid) and uid != live_meta.get("uid")
    if other_uid and not patching:
        raise _uid_precondition(info, live_meta, str(uid))
    wanted = meta.get("resourceVersion")
    if wanted and not str(wanted).isdigit():  # the versioner's ParseUint, a plain Go error
        raise UnknownReasonError(f'strconv.ParseUint: parsing "{wanted}": invalid syntax')
    if wanted and str(wanted) != live_meta.get("resourceVersion"):
        raise ConflictError(
            f'Operation cannot be fulfilled on {resource_label(info)} "{name}": the object has '
            "been modified; please apply your changes to the latest version and try again",
            name=name,
            group=info.group,
            kind=info.plural,
        )
    errors = _new_finalizers(live_meta, meta) if strict else []
    errors += [f'metadata.uid: Invalid value: "{uid}": field is immutable'] if other_uid else []
    last: list[str] = []
    if strict:  # an immutable ConfigMap's errors come before its content's, a selector's after
        errors += update_errors(info.group, info.kind, live, candidate)
        if is_trust_bundle(info):  # its name is checked again: it must fit the signer
            errors += trust_bundle_name_errors(candidate) + trust_bundle_errors(candidate, live)
        errors += event_update_errors(info, live, candidate)
        last = immutable_errors(info, live, candidate) if spec else []
        last += crd_update_errors(live, candidate) if is_crd(info) else []
        if merged is not None and info.schema is not None:
            last += custom_resource_errors(info.schema, merged, live)
    if strict or errors:
        renamed = {**candidate, "metadata": {**meta, "name": name}}
        check_metadata(info, renamed, errors, spec=strict, last=last, creating=False)


# ObjectMeta's fields are all omitempty: Go's encoder leaves out an empty one (a zero time is
# no empty value: it is written as null, so creationTimestamp is not here).
_OMITTED_WHEN_EMPTY = (
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
)


def drop_empty_metadata(obj: dict[str, Any]) -> None:
    """`obj`'s metadata as a decode into ObjectMeta and back leaves it: `labels: {}`,
    `annotations: {}`, `finalizers: []` (a chart's usual output) and the like are gone, and
    so is what is null (a nil pointer)."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for key in [k for k, v in meta.items() if v is None]:
            del meta[key]
        for key in _OMITTED_WHEN_EMPTY:
            if key in meta and meta[key] in ("", 0, {}, []) and meta[key] is not False:
                del meta[key]


def dedup_owner_references(obj: dict[str, Any], *, after_admission: bool = False) -> list[str]:
    """Drop each owner reference equal to an earlier one, as the API handlers do before
    storing (dedupOwnerReferencesAndAddWarning); the warning they add, if any. A patch's are
    deduplicated only after admission, and its warning says so."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(refs := meta.get("ownerReferences"), list):
        return []
    kept: list[Any] = []
    duplicates = []
    for ref in refs:
        same = [r for r in kept if _semantic(r) == _semantic(ref)]
        if same and isinstance(ref, dict):
            duplicates.append(str(ref.get("uid", "")))
        else:
            kept.append(ref)
    if not duplicates:
        return []
    meta["ownerReferences"] = kept
    when = " after mutating admission happens" if after_admission else ""
    return [
        f".metadata.ownerReferences contains duplicate entries{when}; API server dedups owner "
        "references in 1.20+, and may reject such requests as early as 1.24; please fix your "
        f"requests; duplicate UID(s) observed: {', '.join(duplicates)}"
    ]


def _semantic(ref: Any) -> Any:
    """An owner reference as apiequality.Semantic compares it (a null pointer is no field)."""
    return {k: v for k, v in ref.items() if v is not None} if isinstance(ref, dict) else ref


def _owner_errors(references: object) -> list[str]:
    """apimachinery's ValidateOwnerReferences: each names its owner whole, an Event owns
    nothing, and one reference at most is the controller."""
    errors: list[str] = []
    controller = ""
    refs = references if isinstance(references, list) else []
    for index, ref in enumerate(refs):
        if not isinstance(ref, dict):
            continue
        path = f"metadata.ownerReferences[{index}]"
        version = str(ref.get("apiVersion") or "")
        if not version:
            errors.append(f"{path}.apiVersion: Required value: must not be empty")
        elif version.count("/") > 1 or version.endswith("/"):
            errors.append(
                f'{path}.apiVersion: Invalid value: "{version}": must be <group>/<version> or '
                "<version>"
            )
        errors += [
            f"{path}.{key}: Required value: must not be empty"
            for key in ("kind", "name", "uid")
            if not ref.get(key)
        ]
        if (version, ref.get("kind")) == ("v1", "Event"):
            errors.append(
                f"{path}: Invalid value: {struct_value(_owner(ref))}: /v1, Kind=Event is "
                "disallowed from being an owner"
            )
        if ref.get("controller") is True:
            named = f"{ref.get('kind', '')}/{ref.get('name', '')}"
            if controller:
                shown = struct_value([_owner(r) for r in refs if isinstance(r, dict)])
                errors.append(
                    f"metadata.ownerReferences: Invalid value: {shown}: Only one reference can "
                    'have Controller set to true. Found "true" in references for '
                    f"{controller} and {named}"
                )
            else:
                controller = named
    return errors


def _owner(ref: dict[str, Any]) -> dict[str, Any]:
    """An OwnerReference in its Go struct's field order (what encoding/json writes)."""
    keys = ("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion")
    return {k: ref.get(k, "") for k in keys if k in ref or k in keys[:4]}


def _finalizer_errors(finalizers: object, creating: bool, *, builtin: bool) -> list[str]:
    """apimachinery's ValidateFinalizers (a create's): qualified names, and not both orphan
    and foregroundDeletion; then, for a built-in kind on any write, core's own rule that a
    name without a prefix is one of Kubernetes' (validateKubeFinalizerName)."""
    names = [str(f) for f in finalizers] if isinstance(finalizers, list) else []
    errors = []
    if creating:
        errors += [_invalid("finalizers", n, e) for n in names for e in label_key_errors(n)]
    if creating and "orphan" in names and "foregroundDeletion" in names:
        errors.append(
            f"metadata.finalizers: Invalid value: {struct_value(names)}: finalizer orphan and "
            "foregroundDeletion cannot be both set"
        )
    return errors + [
        f'metadata.finalizers[{index}]: Invalid value: "{name}": name is neither a standard '
        "finalizer name nor is it fully qualified"
        for index, name in enumerate(names)
        if builtin and kube_finalizer_refused(name)
    ]


def _new_finalizers(live_meta: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """An object being deleted gains no finalizer (ValidateNoNewFinalizers)."""
    if not live_meta.get("deletionTimestamp"):
        return []
    extra = sorted(set(meta.get("finalizers") or []) - set(live_meta.get("finalizers") or []))
    if not extra:
        return []
    listed = ", ".join(f'"{name}"' for name in extra)
    return [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being "
        f"deleted, found new finalizers []string{{{listed}}}"
    ]


def _invalid(field: str, value: object, message: str) -> str:
    return f'metadata.{field}: Invalid value: "{value}": {message}'


def invalid_object(info: KindInfo, name: str, errors: list[str]) -> InvalidError:
    """kube-apiserver's 422: one error as it is, several in brackets (duplicates once)."""
    unique = list(dict.fromkeys(errors))
    summary = unique[0] if len(unique) == 1 else f"[{', '.join(unique)}]"
    kind = info.kind if not info.group else f"{info.kind}.{info.group}"
    causes = []
    for error in unique:
        field, _, message = error.partition(": ")
        causes.append({"reason": _reason(message), "message": message, "field": field})
    return InvalidError(
        f'{kind} "{name}" is invalid: {summary}',
        name=name,
        group=info.group,
        kind=info.kind,
        causes=causes,
    )


# A field error's type, by the words its message starts with (apimachinery's ErrorType).
_REASONS = (
    ("Required value", "FieldValueRequired"),
    ("Unsupported value", "FieldValueNotSupported"),
    ("Too long", "FieldValueTooLong"),
    ("Too many", "FieldValueTooMany"),
    ("Duplicate value", "FieldValueDuplicate"),
)


def _reason(message: str) -> str:
    """The cause's reason; a TypeInvalid prints as `Invalid value` too, its detail says it."""
    for words, reason in _REASONS:
        if message.startswith(words):
            return reason
    typed = message.startswith("Invalid value") and " must be of type " in message
    return "FieldValueTypeInvalid" if typed else "FieldValueInvalid"


def _uid_precondition(info: KindInfo, live_meta: dict[str, Any], uid: str) -> ConflictError:
    """etcd's precondition failure, as kube-apiserver passes it on for a PUT naming another uid."""
    name, namespace = str(live_meta.get("name", "")), live_meta.get("namespace")
    where = [info.group] if info.crd_name else []
    key = "/".join(["/registry", *where, info.plural, *([namespace] if namespace else []), name])
    return ConflictError(
        f'Operation cannot be fulfilled on {resource_label(info)} "{name}": StorageError: '
        f"invalid object, Code: 4, Key: {key}, ResourceVersion: 0, AdditionalErrorMsg: "
        f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
        f"{live_meta.get('uid')}",
        name=name,
        group=info.group,
        kind=info.plural,
    )
