"""The API server's rules for a write, as pure functions: names, identity fields, generation."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any, cast

import msgspec
import yaml

from simulator.api.kinds import KindInfo, is_crd
from simulator.api.names import generate_name_errors, name_errors, resource_label
from simulator.api.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from simulator.api.store.certificate_rules import is_certificate_request, settle_update
from simulator.api.store.crd_rules import crd_create_errors, crd_name_errors
from simulator.api.store.defaults import (
    convert_pod_status,
    default_fields,
    store_storage_version,
)
from simulator.api.store.errors import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    InvalidError,
    NotFoundError,
)
from simulator.api.store.event_views import is_view, to_view
from simulator.api.store.namespaces import is_namespace, prepare_update
from simulator.api.store.object_meta import check_metadata, drop_empty_metadata, invalid_object
from simulator.api.store.patch_bodies import yaml_error
from simulator.api.store.pod_rules import ephemeral_errors
from simulator.api.store.schema_validation import custom_resource_errors
from simulator.api.store.trust_bundle_rules import is_trust_bundle, trust_bundle_name_errors
from simulator.clock import rfc3339

__all__ = [
    "NAME_ALPHABET",
    "check_preconditions",
    "claim_name",
    "copy_object",
    "merge_update",
    "name_new_object",
    "not_found",
    "parse_fields",
    "parse_labels",
    "parse_patch_body",
    "present",
    "resource_label",
    "same",
    "sort_key",
    "stamp_new_object",
    "stored_namespace",
    "tracks_generation",
    "would_store",
]

NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # the API server's generateName alphabet
_TOP_LEVEL_NON_SPEC = frozenset({"apiVersion", "kind", "metadata", "status"})
# The built-in kinds whose registry strategy counts spec changes in metadata.generation
# (kube-apiserver v1.37 pkg/registry/*/strategy.go sets it to 1 on create); a Secret, a
# ConfigMap, a Namespace or an RBAC object has none. CRDs and custom resources always do.
_GENERATION_KINDS = frozenset(
    {
        ("", "Pod"),
        ("", "PodTemplate"),
        ("", "ReplicationController"),
        ("apps", "DaemonSet"),
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("batch", "CronJob"),
        ("batch", "Job"),
        ("discovery.k8s.io", "EndpointSlice"),
        ("networking.k8s.io", "Ingress"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("policy", "PodDisruptionBudget"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "ResourceSlice"),
    }
)


_PAIRS = [a + b for a in NAME_ALPHABET for b in NAME_ALPHABET]
_SUFFIXES = len(_PAIRS) ** 2 * len(NAME_ALPHABET)


def name_suffix() -> str:
    """Five random characters of the generateName alphabet (one draw, two pairs and one more).

    Uniqueness, not secrecy: the fast PRNG keeps bulk creates cheap.
    """
    n = random.randrange(_SUFFIXES)  # noqa: S311
    pairs = len(_PAIRS)
    return _PAIRS[n % pairs] + _PAIRS[n // pairs % pairs] + NAME_ALPHABET[n // pairs // pairs]


_UID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))  # the variant and version bits
_UID_SET = (0x8000 << 48) | (4 << 76)  # RFC 4122 variant, version 4


def new_uid() -> str:
    """A random (version 4) UUID, as kube-apiserver gives every object.

    Uniqueness, not secrecy: the fast PRNG, as for generated names (uuid4 reads os.urandom and
    builds a UUID object on every create).
    """
    text = (random.getrandbits(128) & _UID_CLEAR | _UID_SET).to_bytes(16).hex()  # 32 digits
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def tracks_generation(info: KindInfo) -> bool:
    """Whether objects of this kind carry metadata.generation."""
    return bool(info.crd_name) or (info.group, info.kind) in _GENERATION_KINDS


def stamp_new_object(info: KindInfo, meta: dict[str, Any], now: datetime) -> None:
    """What a create assigns: a uid, the creation time, the first generation (for kinds that
    count one), and no deletion time."""
    meta["uid"] = new_uid()
    meta["creationTimestamp"] = rfc3339(now)
    meta.pop("generation", None)
    if tracks_generation(info):
        meta["generation"] = 1
    meta.pop("deletionTimestamp", None)
    meta.pop("selfLink", None)  # WipeObjectMetaSystemFields


_ENCODER = msgspec.json.Encoder()
_SORTED_ENCODER = msgspec.json.Encoder(order="deterministic")
_DECODER = msgspec.json.Decoder()
# libyaml when PyYAML has it: the same safe documents, without the pure-Python scanner (18 ms
# against 1.2 ms for a 2 KB Deployment; a demo's bootstrapper sends dozens of applies).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def present(info: KindInfo, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` in the version asked for (the versions of a group share storage, and
    events.k8s.io's Events are core/v1's: a new dict then)."""
    if is_view(info):
        return to_view(obj)
    obj["apiVersion"] = info.api_version
    return obj


def copy_object(obj: dict[str, Any]) -> dict[str, Any]:
    # A JSON round trip is several times faster than copy.deepcopy for API objects.
    return cast("dict[str, Any]", _DECODER.decode(_ENCODER.encode(obj)))


def not_found(info: KindInfo, name: str) -> NotFoundError:
    """The API server's 404 for a named object."""
    return NotFoundError(
        f'{resource_label(info)} "{name}" not found', name=name, group=info.group, kind=info.plural
    )


def check_preconditions(info: KindInfo, live: dict[str, Any], wanted: dict[str, Any]) -> None:
    """409 for a delete whose preconditions (`uid`, `resourceVersion`) the object does not
    meet: another object of the same name, or a newer version of it (rest.BeforeDelete)."""
    meta = live["metadata"]
    name, uid, version = str(meta["name"]), wanted.get("uid"), wanted.get("resourceVersion")
    if uid is not None and uid != meta.get("uid"):
        reason = (
            f"the UID in the precondition ({uid}) does not match the UID in record "
            f"({meta.get('uid')}). The object might have been deleted and then recreated"
        )
    elif version is not None and version != meta.get("resourceVersion"):
        reason = (
            f"the ResourceVersion in the precondition ({version}) does not match the "
            f"ResourceVersion in record ({meta.get('resourceVersion')}). The object might have "
            "been modified"
        )
    else:
        return
    # errors.NewConflict with the kind where the resource goes, as BeforeDelete gives it.
    kind = f"{info.kind}.{info.group}" if info.group else info.kind
    raise ConflictError(
        f'Operation cannot be fulfilled on {kind} "{name}": {reason}',
        name=name,
        group=info.group,
        kind=info.kind,
    )


def would_store(
    info: KindInfo,
    live: dict[str, Any],
    candidate: dict[str, Any],
    *,
    subresource: str | None,
    strict: bool,
) -> dict[str, Any] | None:
    """What an API write of a custom resource stores, merged before the checks so its schema
    reads it (and then stored as it is); None for other writes, merged after theirs.
    `candidate` is left as it is, but for the empty metadata fields an API write's decode
    drops (`drop_empty_metadata`)."""
    if strict:
        drop_empty_metadata(candidate)
    if not strict or info.schema is None:
        return None
    return merge_update(info, live, copy_object(candidate), subresource=subresource, strict=strict)


def _ephemeral_update(
    info: KindInfo, live: dict[str, Any], candidate: dict[str, Any]
) -> dict[str, Any]:
    """A write through pods/ephemeralcontainers: its strategy keeps all of the pod but them
    (decoded, so defaulted, first)."""
    default_fields(info, candidate)
    if errors := ephemeral_errors(live, candidate):
        raise invalid_object(info, str(live["metadata"]["name"]), errors)
    new = copy_object(live)
    ephemeral = (candidate.get("spec") or {}).get("ephemeralContainers")
    new["spec"]["ephemeralContainers"] = ephemeral
    if not ephemeral:
        del new["spec"]["ephemeralContainers"]
    return new


def _approval_update(
    info: KindInfo, live: dict[str, Any], candidate: dict[str, Any]
) -> dict[str, Any]:
    """kube-apiserver's CSR approval strategy: only status.conditions comes from the write."""
    new = copy_object(live)
    conditions = (candidate.get("status") or {}).get("conditions")
    status = {k: v for k, v in (live.get("status") or {}).items() if k != "conditions"}
    new["status"] = status | ({"conditions": conditions} if conditions else {})
    return new


# The subresources through which one field of the object is written, the rest kept as stored.
_ONE_FIELD_UPDATES = {"ephemeralcontainers": _ephemeral_update, "approval": _approval_update}


def merge_update(
    info: KindInfo,
    live: dict[str, Any],
    candidate: dict[str, Any],
    *,
    subresource: str | None,
    strict: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What a write of `live` stores; an API write of a CSR as its strategies settle it, at
    `now` (certificate_rules)."""
    new = _merge(info, live, candidate, subresource=subresource, strict=strict)
    if not (strict and now is not None and is_certificate_request(info)):
        return new
    if errors := settle_update(live, new, subresource, rfc3339(now)):
        raise invalid_object(info, str(live["metadata"]["name"]), errors)
    return new


def _merge(
    info: KindInfo,
    live: dict[str, Any],
    candidate: dict[str, Any],
    *,
    subresource: str | None,
    strict: bool,
) -> dict[str, Any]:
    live_meta = live["metadata"]
    if subresource == "status":
        # Only status changes through /status; everything else stays as stored.
        new = copy_object(live)
        if "status" in candidate:
            new["status"] = candidate["status"]
        else:
            new.pop("status", None)
        convert_pod_status(info, new)
        return new
    if (written_alone := _ONE_FIELD_UPDATES.get(subresource or "")) is not None:
        return written_alone(info, live, candidate)
    new = candidate
    meta = new.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        new["metadata"] = meta
    _keep_identity(info, live_meta, meta)
    if "managedFields" in live_meta and "managedFields" not in meta:
        meta["managedFields"] = live_meta["managedFields"]
    new["apiVersion"] = live["apiVersion"]
    new["kind"] = live["kind"]
    if strict and info.has_status:
        if "status" in live:
            new["status"] = live["status"]
        else:
            new.pop("status", None)
        if is_crd(info):
            store_storage_version(new)
        if is_namespace(info) and (errors := prepare_update(live, new, subresource)):
            raise invalid_object(info, str(live_meta["name"]), errors)
    # The world's own writes (not strict) stand for its controllers' writes, which set a
    # Deployment's revision annotation through /status, where no generation is counted.
    if tracks_generation(info) and (
        _spec_of(new) != _spec_of(live) or (strict and _annotations_count(info, live_meta, meta))
    ):
        meta["generation"] = int(live_meta.get("generation", 1)) + 1
    convert_pod_status(info, new)
    return new


def _annotations_count(info: KindInfo, live_meta: dict[str, Any], meta: dict[str, Any]) -> bool:
    """Whether changed annotations are a new generation: a Deployment's are (its strategy copies
    them to its ReplicaSets, so kube-apiserver counts them as it counts spec changes)."""
    if (info.group, info.kind) != ("apps", "Deployment"):
        return False
    return (live_meta.get("annotations") or {}) != (meta.get("annotations") or {})


def _keep_identity(info: KindInfo, live_meta: dict[str, Any], meta: dict[str, Any]) -> None:
    """An update keeps the live object's identity, version and generation (in place: key order
    decides whether an update changed nothing)."""
    for immutable in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp"):
        if immutable in live_meta:
            meta[immutable] = live_meta[immutable]
        else:
            meta.pop(immutable, None)
    meta["resourceVersion"] = live_meta.get("resourceVersion")
    meta.pop("selfLink", None)  # PrepareObjectForStorage: never stored, whoever sent it
    if tracks_generation(info):
        meta["generation"] = live_meta.get("generation", 1)
    else:
        meta.pop("generation", None)


def _spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in _TOP_LEVEL_NON_SPEC}


def same(live: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when an update changes nothing (the server then keeps the resourceVersion, and the
    live object as it was). Key order is no change: kube-apiserver compares the bytes it would
    store, and Go writes a struct's fields in their order and a map's keys sorted (a
    server-side apply that merges a Service's ports writes them in another order here). Nor
    is a managedFields entry's new time alone: IgnoreManagedFieldsTimestampsTransformer
    (k8s.io/apiserver fieldmanager/equality.go) reverts it when nothing else changed, so that
    an apply of the same configuration again is no new version."""
    encode = _SORTED_ENCODER.encode
    if encode(live) == encode(new):
        return True
    old_entries = live["metadata"].get("managedFields")
    new_entries = new["metadata"].get("managedFields")
    if not old_entries or not new_entries or len(old_entries) != len(new_entries):
        return False
    untimed = [{**entry, "time": None} for entry in new_entries]
    if encode(untimed) != encode([{**entry, "time": None} for entry in old_entries]):
        return False
    return bool(
        encode(live)
        == encode({**new, "metadata": {**new["metadata"], "managedFields": old_entries}})
    )


def stored_namespace(info: KindInfo, namespace: str | None) -> str:
    """The namespace an object of `info` is kept under (a request's none is `default`)."""
    return (namespace or "default") if info.namespaced else ""


def sort_key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def parse_labels(text: str | None) -> LabelSelector | None:
    try:
        return parse_label_selector(text) if text else None
    except SelectorError as exc:
        raise BadRequestError(str(exc)) from exc


def parse_fields(text: str | None) -> FieldSelector | None:
    try:
        return parse_field_selector(text) if text else None
    except SelectorError as exc:
        raise BadRequestError(str(exc)) from exc


def parse_patch_body(patch: Any, patch_type: str) -> Any:
    if isinstance(patch, bytes | str):
        text = patch.decode() if isinstance(patch, bytes) else patch
        try:
            if patch_type == "apply":
                return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
            return _DECODER.decode(text)
        except yaml.YAMLError as exc:
            raise yaml_error(exc) from exc
        except msgspec.DecodeError as exc:
            raise BadRequestError("invalid JSON patch") from exc  # kube-apiserver's words
    return patch


def name_new_object(info: KindInfo, obj: dict[str, Any], *, strict: bool) -> None:
    """Give `obj` a name from `generateName`; InvalidError when it has neither, or when the
    object is not valid (its name, its metadata, and for the API's writes what its kind checks
    in its spec)."""
    if strict:  # decoded: the empty fields ObjectMeta leaves out are gone
        drop_empty_metadata(obj)
    meta = obj["metadata"]
    if not meta.get("name"):
        if meta.get("generateName"):
            # names.SimpleNameGenerator: the prefix cut to 58 bytes, so the name fits in 63.
            meta["name"] = f"{str(meta['generateName'])[:58]}{name_suffix()}"
        else:
            raise InvalidError(
                f'{info.kind} "" is invalid: metadata.name: Required value: '
                "name or generateName is required",
                kind=info.kind,
                group=info.group,
                causes=[
                    {
                        "reason": "FieldValueRequired",
                        "message": "Required value: name or generateName is required",
                        "field": "metadata.name",
                    }
                ],
            )

    schema = info.schema if strict else None  # a custom resource's, the API's writes
    last = custom_resource_errors(schema, obj) if schema is not None else None
    prefix = meta.get("generateName")
    names = generate_name_errors(info, str(prefix)) if prefix and strict else []
    names += (
        trust_bundle_name_errors(obj)
        if is_trust_bundle(info)
        else name_errors(info, str(meta["name"]))
    )
    if strict and is_crd(info):
        names += crd_name_errors(obj)
        last = crd_create_errors(obj)
    check_metadata(info, obj, names, spec=strict, last=last)


def claim_name(info: KindInfo, meta: dict[str, Any], bucket: dict[tuple[str, str], Any]) -> str:
    """The new object's name, free in `bucket`; AlreadyExistsError when it is taken.

    Like the API server, a generated name that collides is generated again.
    """
    ns, name = meta.get("namespace", ""), str(meta["name"])
    generated = meta.get("generateName") and name.startswith(meta["generateName"])
    for _ in range(8 if generated else 0):
        if (ns, name) not in bucket:
            break
        name = f"{meta['generateName']}{name_suffix()}"
        meta["name"] = name
    if (ns, name) in bucket:
        raise AlreadyExistsError(
            f'{resource_label(info)} "{name}" already exists',
            name=name,
            group=info.group,
            kind=info.plural,
        )
    return name


def marked_for_deletion(obj: dict[str, Any], now: datetime) -> dict[str, Any]:
    """An object (a copy the caller owns) that finalizers keep after its delete, as the API
    server marks it: deletionTimestamp, no grace period left, and a new generation for a kind
    that counts them (the deletion is a change of what is asked)."""
    meta = obj["metadata"]
    meta["deletionTimestamp"] = rfc3339(now)
    meta["deletionGracePeriodSeconds"] = 0
    if meta.get("generation"):
        meta["generation"] = int(meta["generation"]) + 1
    return obj
