"""A v1 CustomResourceDefinition's spec as kube-apiserver validates it: the internal form
(apiextensions-apiserver v0.37.2, Convert_v1_CustomResourceDefinitionSpec_To_apiextensions), where
the first version's name is also `spec.version` and what every version has alike (schema,
subresources, printer columns, selectable fields) moves to the spec's top level; and the
internal versions as Go's json.Marshal writes them, as a field error naming them all prints.
"""

from __future__ import annotations

from typing import Any

from simulator.api.store.crd_schema_rules import go_schema_json
from simulator.api.store.go_values import struct_value

__all__ = ["as_map", "internal_spec", "schema_of", "status_enabled", "versions_json"]

_PER_VERSION = (
    ("schema", "validation"),
    ("subresources", "subresources"),
    ("additionalPrinterColumns", "additionalPrinterColumns"),
    ("selectableFields", "selectableFields"),
)


def as_map(value: Any) -> dict[str, Any]:
    """`value` when it is a map, else an empty one (a field of the wrong type reads as unset)."""
    return value if isinstance(value, dict) else {}


def _empty(value: Any) -> Any:
    """Semantic equality treats a nil and an empty list or map alike."""
    return None if value in ([], {}) else value


def internal_spec(v1: dict[str, Any]) -> dict[str, Any]:
    """The spec as Convert_v1_CustomResourceDefinitionSpec_To_apiextensions makes it: what
    every version has alike moves to the top level."""
    versions = [dict(as_map(v)) for v in v1.get("versions") or []]
    spec: dict[str, Any] = {"versions": versions, "version": ""}
    for _, top in _PER_VERSION:
        spec[top] = None
    if not versions:
        return spec
    spec["version"] = str(versions[0].get("name") or "")
    for per_version, top in _PER_VERSION:
        first = _empty(versions[0].get(per_version))
        if all(_empty(v.get(per_version)) == first for v in versions):
            spec[top] = first
            for version in versions:
                version.pop(per_version, None)
    return spec


def schema_of(version: dict[str, Any]) -> Any:
    return as_map(version.get("schema")).get("openAPIV3Schema")


def status_enabled(subresources: Any) -> bool:
    return as_map(subresources).get("status") is not None


def versions_json(versions: list[dict[str, Any]]) -> str:
    """The internal versions as json.Marshal writes them (a bad value naming them all)."""
    return struct_value(
        [
            {
                "Name": v.get("name", ""),
                "Served": v.get("served", False),
                "Storage": v.get("storage", False),
                "Deprecated": v.get("deprecated", False),
                "DeprecationWarning": v.get("deprecationWarning"),
                "Schema": None
                if v.get("schema") is None
                else {"OpenAPIV3Schema": go_schema_json(schema_of(v))},
                "Subresources": _subresources_json(v.get("subresources")),
                "AdditionalPrinterColumns": _columns_json(v.get("additionalPrinterColumns")),
                "SelectableFields": None
                if not v.get("selectableFields")
                else [{"JSONPath": f.get("jsonPath", "")} for f in v["selectableFields"]],
            }
            for v in versions
        ]
    )


def _subresources_json(subresources: Any) -> Any:
    if not isinstance(subresources, dict):
        return None
    scale = subresources.get("scale")
    return {
        "Status": None if subresources.get("status") is None else {},
        "Scale": None
        if not isinstance(scale, dict)
        else {
            "SpecReplicasPath": scale.get("specReplicasPath", ""),
            "StatusReplicasPath": scale.get("statusReplicasPath", ""),
            "LabelSelectorPath": scale.get("labelSelectorPath"),
        },
    }


def _columns_json(columns: Any) -> Any:
    if not columns:
        return None
    return [
        {
            "Name": c.get("name", ""),
            "Type": c.get("type", ""),
            "Format": c.get("format", ""),
            "Description": c.get("description", ""),
            "Priority": c.get("priority", 0),
            "JSONPath": c.get("jsonPath", ""),
        }
        for c in columns
    ]
