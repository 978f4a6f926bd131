"""A CustomResourceDefinition refused in kube-apiserver v1.37's words (each answer as a real
control plane gave it; test_fake_api_vs_apiserver_crd_refusals.py compares many more live)."""

from __future__ import annotations

import copy
from typing import Any

from simulator.api.store.crd_rules import (
    crd_create_errors,
    crd_name_errors,
    crd_spec_errors,
    crd_update_errors,
)

_SCHEMA = {"type": "object", "properties": {"spec": {"type": "object"}}}


def _crd(**spec: Any) -> dict[str, Any]:
    body = {
        "group": "judge.example.io",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": _SCHEMA}}
        ],
        **spec,
    }
    body["names"].setdefault("listKind", f"{body['names'].get('kind')}List")
    return {"metadata": {"name": "widgets.judge.example.io"}, "spec": copy.deepcopy(body)}


def test_a_valid_crd_has_no_errors() -> None:
    crd = _crd()
    assert crd_name_errors(crd) + crd_spec_errors(crd) + crd_create_errors(crd) == []


def test_the_name_is_plural_dot_group() -> None:
    crd = {**_crd(), "metadata": {"name": "gizmos.judge.example.io"}}
    assert crd_name_errors(crd) == [
        'metadata.name: Invalid value: "gizmos.judge.example.io": must be '
        'spec.names.plural+"."+spec.group'
    ]


def test_versions_need_exactly_one_storage_version() -> None:
    version = {"name": "v1", "served": True, "storage": False}
    crd = _crd(versions=[{**version, "schema": {"openAPIV3Schema": _SCHEMA}}])
    assert crd_spec_errors(crd) == [
        'spec.versions: Invalid value: [{"Name":"v1","Served":true,"Storage":false,'
        '"Deprecated":false,"DeprecationWarning":null,"Schema":null,"Subresources":null,'
        '"AdditionalPrinterColumns":null,"SelectableFields":null}]: must have exactly one '
        "version marked as storage version"
    ]
    assert crd_create_errors(crd) == [
        "status.storedVersions: Invalid value: null: must have at least one stored version"
    ]


def test_a_schema_every_version_shares_is_checked_at_the_top_level() -> None:
    schema = {"type": "object", "properties": {"spec": {"properties": {}}}}
    versions = [
        {
            "name": name,
            "served": True,
            "storage": name == "v1",
            "schema": {"openAPIV3Schema": schema},
        }
        for name in ("v1", "v2")
    ]
    assert crd_spec_errors(_crd(versions=versions)) == [
        "spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be "
        "empty for specified object fields"
    ]


def test_defaults_and_metadata_at_the_root() -> None:
    schema = {
        "type": "object",
        "properties": {
            "metadata": {
                "type": "object",
                "properties": {"name": {"type": "string", "default": "x"}},
            }
        },
    }
    versions = [
        {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}
    ]
    assert crd_spec_errors(_crd(versions=versions)) == [
        "spec.validation.openAPIV3Schema.properties[metadata].properties[name].default: "
        "Forbidden: must not be set in top-level metadata"
    ]


def test_an_established_crd_keeps_its_scope_and_its_stored_versions() -> None:
    live = {
        **_crd(),
        "status": {
            "storedVersions": ["v1"],
            "conditions": [{"type": "Established", "status": "True"}],
        },
    }
    v2 = {"name": "v2", "served": True, "storage": True, "schema": {"openAPIV3Schema": _SCHEMA}}
    moved = _crd(scope="Cluster", versions=[v2])
    assert crd_update_errors(live, moved) == [
        'spec.scope: Invalid value: "Cluster": field is immutable',
        'status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was '
        "previously a storage version, and must remain in spec.versions until a storage "
        "migration ensures no data remains persisted in v1 and removes v1 from "
        "status.storedVersions",
    ]


def test_a_protected_group_needs_an_approval() -> None:
    crd = {**_crd(group="widgets.k8s.io"), "metadata": {"name": "widgets.widgets.k8s.io"}}
    assert crd_create_errors(crd) == [
        "metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups "
        'must have approval annotation "api-approved.kubernetes.io", see '
        "https://github.com/kubernetes/enhancements/pull/1111"
    ]


def test_a_default_is_held_to_its_schema() -> None:
    spec = {
        "type": "object",
        "default": {"size": 1, "colour": "red"},
        "properties": {"size": {"type": "integer", "default": "big"}},
    }
    schema = {"type": "object", "properties": {"spec": spec}}
    versions = [
        {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}
    ]
    at = "spec.validation.openAPIV3Schema.properties[spec]"
    assert crd_spec_errors(_crd(versions=versions)) == [
        f'{at}.default: Invalid value: {{"colour":"red","size":1}}: must not have unknown fields',
        f'{at}.properties[size].default: Invalid value: "string":  in body must be of type '
        'integer: "string"',
    ]


def test_a_deprecation_warning_must_be_printable() -> None:
    version = {
        "name": "v1",
        "served": True,
        "storage": True,
        "deprecated": True,
        "deprecationWarning": "é\tx",
        "schema": {"openAPIV3Schema": _SCHEMA},
    }
    assert crd_spec_errors(_crd(versions=[version])) == [
        'spec.versions[0].deprecationWarning: Invalid value: "é\\tx": must only contain '
        "printable UTF-8 characters; non-printable character found at index 2"
    ]
