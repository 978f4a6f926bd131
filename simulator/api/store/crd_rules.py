"""What kube-apiserver checks in a CustomResourceDefinition, in its words and order
(apiextensions-apiserver v0.37.2, pkg/apis/apiextensions/validation:
ValidateCustomResourceDefinition and its update): the name against `<plural>.<group>`, the
group, scope, names, versions and the storage version, each version's schema
(crd_schema_rules.py), subresources, printer columns and deprecation warning, conversion, the
stored versions, the approval a `*.k8s.io` group needs.

kube-apiserver validates the internal form a v1 CRD converts to: the first version's name is
also `spec.version`, and a schema, subresources or printer columns that every version has alike
move to the spec's top level (`spec.validation`, `spec.subresources`,
`spec.additionalPrinterColumns[i].JSONPath`). The messages name those paths, so this module
converts first (crd_internal.py). Not checked: CEL rules, a default as metadata,
selectable fields, a conversion webhook's URL and service, and the accepted names
kube-apiserver's own controller writes.
"""

from __future__ import annotations

from typing import Any

from simulator.api.names import dns1035_label_errors, subdomain_errors
from simulator.api.store.crd_internal import (
    as_map,
    internal_spec,
    schema_of,
    status_enabled,
    versions_json,
)
from simulator.api.store.crd_schema_rules import schema_errors
from simulator.api.store.defaults import storage_version
from simulator.api.store.go_values import bad_value, not_supported

__all__ = ["crd_create_errors", "crd_name_errors", "crd_spec_errors", "crd_update_errors"]

_COLUMN_TYPES = ("boolean", "date", "integer", "number", "string")
_COLUMN_FORMATS = ("byte", "date", "date-time", "double", "float", "int32", "int64", "password")
_APPROVAL = "api-approved.kubernetes.io"
_PR = "see https://github.com/kubernetes/enhancements/pull/1111"


def crd_name_errors(obj: dict[str, Any]) -> list[str]:
    """A new CRD's name must be `<spec.names.plural>.<spec.group>`."""
    spec = as_map(obj.get("spec"))
    name = str(as_map(obj.get("metadata")).get("name") or "")
    if name == f"{as_map(spec.get('names')).get('plural') or ''}.{spec.get('group') or ''}":
        return []
    return [f'metadata.name: Invalid value: "{name}": must be spec.names.plural+"."+spec.group']


def crd_spec_errors(obj: dict[str, Any]) -> list[str]:
    """validateCustomResourceDefinitionSpec."""
    v1 = as_map(obj.get("spec"))
    spec = internal_spec(v1)
    errors = _group_errors(str(v1.get("group") or ""))
    scope = str(v1.get("scope") or "")
    errors += _enum("spec.scope", scope, ("Cluster", "Namespaced"))
    if as_map(spec["validation"]).get("openAPIV3Schema") is None:
        errors += [
            f"spec.versions[{i}].schema.openAPIV3Schema: Required value"
            for i, version in enumerate(spec["versions"])
            if schema_of(version) is None
        ]
    preserve = v1.get("preserveUnknownFields") is True
    if preserve and _has_defaults(v1):
        errors.append(
            "spec.preserveUnknownFields: Invalid value: true: must be false in order to use "
            "defaults in the schema"
        )
    errors += _versions_errors(spec)
    errors += _names_errors(as_map(v1.get("names")))
    if spec["validation"] is not None:
        status = status_enabled(spec["subresources"]) or any(
            status_enabled(v.get("subresources")) for v in spec["versions"]
        )
        top = as_map(spec["validation"]).get("openAPIV3Schema")
        errors += _schema_errors(top, "spec.validation", status=status)
    errors += _subresource_errors(spec["subresources"], "spec.subresources")
    for i, column in enumerate(spec["additionalPrinterColumns"] or []):
        errors += _column_errors(column, f"spec.additionalPrinterColumns[{i}]")
    conversion = as_map(v1.get("conversion"))
    if conversion.get("strategy") not in (None, "None") and preserve:
        errors.append(
            f"spec.conversion.strategy: Invalid value: {bad_value(conversion.get('strategy'))}: "
            "must be None if spec.preserveUnknownFields is true"
        )
    return errors + _conversion_errors(conversion)


def crd_create_errors(obj: dict[str, Any]) -> list[str]:
    """What comes after the spec's errors for a new CRD: its stored version (the first storage
    version, as the create strategy sets it), its approval, preserveUnknownFields."""
    versions = [as_map(v) for v in as_map(obj.get("spec")).get("versions") or []]
    storage = storage_version(as_map(obj.get("spec")))
    stored = [storage] if storage is not None else None
    return _stored_errors(stored, versions) + _approval_errors(obj, None) + _preserve_errors(obj)


def crd_update_errors(live: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    """The same for an update: an established CRD's scope and kind may not change, then the
    stored versions so far (plus a new storage version), its approval, preserveUnknownFields."""
    errors: list[str] = []
    if _established(live):
        old, new = as_map(live.get("spec")), as_map(obj.get("spec"))
        for path, new_value, old_value in (
            ("spec.scope", new.get("scope"), old.get("scope")),
            (
                "spec.names.kind",
                as_map(new.get("names")).get("kind"),
                as_map(old.get("names")).get("kind"),
            ),
        ):
            if new_value != old_value:
                errors.append(f"{path}: Invalid value: {bad_value(new_value)}: field is immutable")
    versions = [as_map(v) for v in as_map(obj.get("spec")).get("versions") or []]
    stored = list(as_map(live.get("status")).get("storedVersions") or [])
    storage = storage_version(as_map(obj.get("spec")))
    if storage is not None and storage not in stored:
        stored.append(storage)
    live_preserves = as_map(live.get("spec")).get("preserveUnknownFields") is True
    preserve = [] if live_preserves else _preserve_errors(obj)
    return (
        errors + _stored_errors(stored or None, versions) + _approval_errors(obj, live) + preserve
    )


def _has_defaults(v1: dict[str, Any]) -> bool:
    def has(schema: Any) -> bool:
        if isinstance(schema, dict):
            return "default" in schema or any(has(v) for v in schema.values())
        if isinstance(schema, list):
            return any(has(v) for v in schema)
        return False

    return any(has(schema_of(as_map(v))) for v in v1.get("versions") or [])


# -- the rules ------------------------------------------------------------------------------------


def _enum(path: str, value: str, accepted: tuple[str, ...]) -> list[str]:
    if not value:
        return [f"{path}: Required value"]
    if value in accepted:
        return []
    return [not_supported(path, value, accepted)]


def _group_errors(group: str) -> list[str]:
    if not group:
        return ["spec.group: Required value"]
    if found := subdomain_errors(group):
        return [f"spec.group: Invalid value: {bad_value(group)}: {','.join(found)}"]
    if "." not in group:
        dot = "should be a domain with at least one dot"
        return [f"spec.group: Invalid value: {bad_value(group)}: {dot}"]
    return []


def _versions_errors(spec: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    versions = spec["versions"]
    names = [v.get("name") for v in versions]
    for i, version in enumerate(versions):
        at = f"spec.versions[{i}]"
        name = str(version.get("name") or "")
        if found := dns1035_label_errors(name):
            errors.append(f"{at}.name: Invalid value: {bad_value(name)}: {','.join(found)}")
        errors += _deprecation_errors(version, at)
        if schema_of(version) is not None:
            status = status_enabled(version.get("subresources") or spec["subresources"])
            errors += _schema_errors(schema_of(version), f"{at}.schema", status=status)
        errors += _subresource_errors(version.get("subresources"), f"{at}.subresources")
        for j, column in enumerate(version.get("additionalPrinterColumns") or []):
            errors += _column_errors(column, f"{at}.additionalPrinterColumns[{j}]")
    every = versions_json(versions)
    if len(set(names)) != len(names):
        errors.append(f"spec.versions: Invalid value: {every}: must contain unique version names")
    if sum(1 for v in versions if v.get("storage") is True) != 1:
        errors.append(
            f"spec.versions: Invalid value: {every}: must have exactly one version marked as "
            "storage version"
        )
    if spec["version"] and (found := dns1035_label_errors(spec["version"])):
        errors.append(
            f"spec.version: Invalid value: {bad_value(spec['version'])}: {','.join(found)}"
        )
    return errors


def _schema_errors(schema: Any, path: str, *, status: bool) -> list[str]:
    if not isinstance(schema, dict):
        return []
    return schema_errors(schema, f"{path}.openAPIV3Schema", status_enabled=status)


def _deprecation_errors(version: dict[str, Any], at: str) -> list[str]:
    warning = version.get("deprecationWarning")
    if warning is None:
        return []
    path = f"{at}.deprecationWarning: Invalid value: {bad_value(warning)}"
    if version.get("deprecated") is not True:
        return [f"{path}: can only be set for deprecated versions"]
    found = []
    text = str(warning)
    if len(text.encode()) > 256:
        found.append("must be <= 256 characters long")
    if not text:
        found.append("must not be an empty string")
    # Go checks unicode.IsPrint before IsControl, so a control character is "non-printable"
    # too; the index is a byte offset. isprintable is IsPrint (letters, marks, numbers,
    # punctuation, symbols and the ASCII space).
    bad = next((i for i, char in enumerate(text) if not char.isprintable()), None)
    if bad is not None:
        found.append(
            "must only contain printable UTF-8 characters; non-printable character found at "
            f"index {len(text[:bad].encode())}"
        )
    return [f"{path}: {e}" for e in found]


def _names_errors(names: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    plural, singular = str(names.get("plural") or ""), str(names.get("singular") or "")
    kind, list_kind = str(names.get("kind") or ""), str(names.get("listKind") or "")
    for key, value in (("plural", plural), ("singular", singular), ("kind", kind)):
        if not value:
            errors.append(f"spec.names.{key}: Required value")
    if not list_kind:
        errors.append("spec.names.listKind: Required value")
    for key, value in (("plural", plural), ("singular", singular)):
        if value and (found := dns1035_label_errors(value)):
            errors.append(f"spec.names.{key}: Invalid value: {bad_value(value)}: {','.join(found)}")
    for key, value in (("kind", kind), ("listKind", list_kind)):
        if value and (found := dns1035_label_errors(value.lower())):
            errors.append(
                f"spec.names.{key}: Invalid value: {bad_value(value)}: may have mixed case, but "
                f"should otherwise match: {','.join(found)}"
            )
    errors += _label_list(names.get("shortNames"), "spec.names.shortNames")
    if kind and kind == list_kind:
        errors.append(
            f"spec.names.listKind: Invalid value: {bad_value(list_kind)}: kind and listKind may "
            "not be the same"
        )
    return errors + _label_list(names.get("categories"), "spec.names.categories")


def _label_list(values: Any, path: str) -> list[str]:
    return [
        f"{path}[{i}]: Invalid value: {bad_value(value)}: {','.join(found)}"
        for i, value in enumerate(values or [])
        if (found := dns1035_label_errors(str(value)))
    ]


def _simple_path(value: str, path: str) -> list[str]:
    if not value:
        return [f'{path}: Invalid value: "": must not be empty']
    if not value.startswith("."):
        return [
            f"{path}: Invalid value: {bad_value(value)}: must be a simple json path starting with ."
        ]
    return []


def _subresource_errors(subresources: Any, path: str) -> list[str]:
    scale = as_map(subresources).get("scale")
    if not isinstance(scale, dict):
        return []
    errors: list[str] = []
    for key, under in (("specReplicasPath", ".spec"), ("statusReplicasPath", ".status")):
        value, at = str(scale.get(key) or ""), f"{path}.scale.{key}"
        if not value:
            errors.append(f"{at}: Required value")
        elif found := _simple_path(value, at):
            errors += found
        elif not value.startswith(f"{under}."):
            errors.append(
                f"{at}: Invalid value: {bad_value(value)}: should be a json path under {under}"
            )
    selector = str(scale.get("labelSelectorPath") or "")
    at = f"{path}.scale.labelSelectorPath"
    if selector and (found := _simple_path(selector, at)):
        errors += found
    elif selector and not selector.startswith((".spec.", ".status.")):
        errors.append(
            f"{at}: Invalid value: {bad_value(selector)}: should be a json path under either "
            ".spec or .status"
        )
    return errors


def _column_errors(column: Any, path: str) -> list[str]:
    column = as_map(column)
    errors = [] if column.get("name") else [f"{path}.name: Required value"]
    kind, types = str(column.get("type") or ""), ",".join(_COLUMN_TYPES)
    if not kind:
        errors.append(f"{path}.type: Required value: must be one of {types}")
    elif kind not in _COLUMN_TYPES:
        errors.append(f"{path}.type: Invalid value: {bad_value(kind)}: must be one of {types}")
    form = str(column.get("format") or "")
    if form and form not in _COLUMN_FORMATS:
        errors.append(
            f"{path}.format: Invalid value: {bad_value(form)}: must be one of "
            f"{','.join(_COLUMN_FORMATS)}"
        )
    json_path = str(column.get("jsonPath") or "")
    if not json_path:
        return [*errors, f"{path}.JSONPath: Required value"]
    return errors + _simple_path(json_path, f"{path}.JSONPath")


def _conversion_errors(conversion: dict[str, Any]) -> list[str]:
    if not conversion:
        return []
    strategy = str(conversion.get("strategy") or "")
    errors = _enum("spec.conversion.strategy", strategy, ("None", "Webhook"))
    webhook = conversion.get("webhook")
    config = as_map(webhook).get("clientConfig")
    versions = as_map(webhook).get("conversionReviewVersions") or []
    if strategy != "Webhook":
        if isinstance(webhook, dict) and config is not None:
            errors.append(
                "spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy "
                "is not set to Webhook"
            )
        if versions:
            errors.append(
                "spec.conversion.conversionReviewVersions: Forbidden: should not be set when "
                "strategy is not set to Webhook"
            )
        return errors
    if config is None:
        errors.append(
            "spec.conversion.webhookClientConfig: Required value: required when strategy is set "
            "to Webhook"
        )
    elif (config.get("url") is None) == (config.get("service") is None):
        errors.append(
            "spec.conversion.webhookClientConfig: Required value: exactly one of url or service "
            "is required"
        )
    return errors + _review_versions(versions)


def _review_versions(versions: list[Any]) -> list[str]:
    path = "spec.conversion.conversionReviewVersions"
    if not versions:
        return [f"{path}: Required value"]
    errors: list[str] = []
    seen: set[str] = set()
    for i, version in enumerate(str(v) for v in versions):
        if version in seen:
            errors.append(f"{path}[{i}]: Invalid value: {bad_value(version)}: duplicate version")
            continue
        seen.add(version)
        errors += [
            f"{path}[{i}]: Invalid value: {bad_value(version)}: {e}"
            for e in dns1035_label_errors(version)
        ]
    if not seen & {"v1", "v1beta1"}:
        errors.append(
            f"{path}: Invalid value: {bad_value(list(versions))}: must include at least one of "
            "v1, v1beta1"
        )
    return errors


def _stored_errors(stored: list[Any] | None, versions: list[dict[str, Any]]) -> list[str]:
    path = "status.storedVersions"
    if not stored:
        return [
            f"{path}: Invalid value: {bad_value(stored)}: must have at least one stored version"
        ]
    errors: list[str] = []
    left = {v: i for i, v in enumerate(stored)}
    for version in versions:
        name = version.get("name")
        if version.get("storage") is True and name not in left:
            errors.append(
                f"{path}: Invalid value: {bad_value(stored)}: must have the storage version {name}"
            )
        left.pop(name, None)
    for name, i in left.items():
        errors.append(
            f"{path}[{i}]: Invalid value: {bad_value(name)}: missing from spec.versions; {name} "
            f"was previously a storage version, and must remain in spec.versions until a storage "
            f"migration ensures no data remains persisted in {name} and removes {name} from "
            "status.storedVersions"
        )
    return errors


def _approval_state(obj: dict[str, Any]) -> tuple[str, str]:
    value = str(as_map(as_map(obj.get("metadata")).get("annotations")).get(_APPROVAL) or "")
    if not value:
        return "missing", f'protected groups must have approval annotation "{_APPROVAL}", {_PR}'
    if value.startswith("unapproved"):
        return "bypassed", ""
    scheme, _, rest = value.partition("://")
    if scheme and rest and not rest.startswith("/") and scheme.isalnum():
        return "approved", ""
    return "invalid", (
        f'protected groups must have approval annotation "{_APPROVAL}" with either a URL or a '
        f'reason starting with "unapproved", {_PR}'
    )


def _approval_errors(obj: dict[str, Any], live: dict[str, Any] | None) -> list[str]:
    group = str(as_map(obj.get("spec")).get("group") or "")
    protected = group in ("k8s.io", "kubernetes.io") or group.endswith(
        (".k8s.io", ".kubernetes.io")
    )
    if not protected:
        return []
    state, reason = _approval_state(obj)
    if live is not None and _approval_state(live)[0] == state:
        return []
    path = f"metadata.annotations[{_APPROVAL}]"
    if state == "missing":
        return [f"{path}: Required value: {reason}"]
    if state == "invalid":
        value = as_map(as_map(obj.get("metadata")).get("annotations")).get(_APPROVAL)
        return [f"{path}: Invalid value: {bad_value(value)}: {reason}"]
    return []


def _preserve_errors(obj: dict[str, Any]) -> list[str]:
    if as_map(obj.get("spec")).get("preserveUnknownFields") is not True:
        return []
    return [
        "spec.preserveUnknownFields: Invalid value: true: cannot set to true, set "
        "x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead"
    ]


def _established(crd: dict[str, Any]) -> bool:
    return any(
        as_map(c).get("type") == "Established" and as_map(c).get("status") == "True"
        for c in as_map(crd.get("status")).get("conditions") or []
    )
