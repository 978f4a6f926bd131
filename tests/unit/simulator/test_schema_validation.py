"""A custom resource against its CRD's schema. Each expected refusal is kube-apiserver v1.37.2's
for the same schema and value; tests/integration/test_fake_api_vs_apiserver_cr_validation.py
compares the whole answers with a real control plane's."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.api.store.schema_validation import custom_resource_errors

SPEC = {
    "type": "object",
    "required": ["level"],
    "properties": {
        "level": {"type": "string", "enum": ["low", "high"]},
        "size": {"type": "integer", "minimum": 1, "maximum": 10},
        "ratio": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "multipleOf": 0.5},
        "count": {"type": "integer", "format": "int32"},
        "name": {"type": "string", "maxLength": 5, "pattern": "^[a-z]+$"},
        "port": {"x-kubernetes-int-or-string": True},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 1},
        "set": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
        "ports": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
        "either": {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
        },
        "note": {"type": "string", "nullable": True},
    },
}
SCHEMA = {"type": "object", "properties": {"spec": SPEC}}


def _errors(spec: Any, old: Any = None) -> list[str]:
    obj = {"apiVersion": "example.io/v1", "kind": "Probe", "spec": spec}
    was = None if old is None else {**obj, "spec": old}
    return custom_resource_errors(SCHEMA, obj, was)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"level": "low", "size": 2.0, "note": None}, []),
        (
            {"level": "low", "size": "abc"},
            [
                'spec.size: Invalid value: "string": spec.size'
                ' in body must be of type integer: "string"'
            ],
        ),
        (
            {"level": "low", "size": 1.5},
            [
                'spec.size: Invalid value: "number": spec.size'
                ' in body must be of type integer: "number"',
                '<nil>: Invalid value: ""'
                ": Checked value must be of type integer (default format) in spec.size",
            ],
        ),
        (
            {"level": "mid"},
            ['spec.level: Unsupported value: "mid": supported values: "low", "high"'],
        ),
        ({"size": 3}, ["spec.level: Required value"]),
        (
            {"level": "low", "size": 0},
            ["spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1"],
        ),
        (
            {"level": "low", "ratio": 0},
            [
                "spec.ratio: Invalid value"
                ": 0: factor MultipleOf declared for spec.ratio must be positive: 0",
                "spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0",
            ],
        ),
        (
            {"level": "low", "ratio": 0.7},
            ["spec.ratio: Invalid value: 0.7: spec.ratio in body should be a multiple of 0.5"],
        ),
        (
            {"level": "low", "count": 3000000000},
            [
                '<nil>: Invalid value: ""'
                ": Checked value must be of type integer with format int32 in spec.count"
            ],
        ),
        (
            {"level": "low", "name": "abcdefg"},
            ["spec.name: Too long: may not be more than 5 bytes"],
        ),
        (
            {"level": "low", "name": "AB"},
            ["spec.name: Invalid value: \"AB\": spec.name in body should match '^[a-z]+$'"],
        ),
        (
            {"level": "low", "port": True},
            [
                'spec.port: Invalid value: "boolean": spec.port'
                ' in body must be of type integer,string: "boolean"'
            ],
        ),
        (
            {"level": "low", "tags": ["a", "b"]},
            ["spec.tags: Too many: 2: must have at most 1 item"],
        ),
        ({"level": "low", "set": ["a", "a"]}, ['spec.set[1]: Duplicate value: "a"']),
        (
            {"level": "low", "ports": [{"name": "x"}, {"name": "x"}]},
            ['spec.ports[1]: Duplicate value: {"name":"x"}'],
        ),
        (
            {"level": "low", "either": {}},
            [
                '<nil>: Invalid value: "": "spec.either" must validate at least one schema (anyOf)',
                "spec.either.a: Required value",
            ],
        ),
    ],
)
def test_a_broken_field_is_refused_in_kube_apiservers_words(spec: Any, expected: list[str]) -> None:
    assert _errors(spec) == expected


def test_an_update_leaves_what_it_did_not_change_unchecked() -> None:
    """Ratcheting: the stored object broke a schema made stricter since; what the update kept
    as it was is let be, what it changed is held to the schema."""
    stored = {"level": "low", "size": 50, "tags": ["a", "b"]}
    assert _errors({**stored, "name": "ab"}, old=stored) == []
    assert _errors({**stored, "size": 40}, old=stored) == [
        "spec.size: Invalid value: 40: spec.size in body should be less than or equal to 10"
    ]
    assert _errors({**stored, "tags": ["a", "c"]}, old=stored) == [
        "spec.tags: Too many: 2: must have at most 1 item"
    ]
    assert _errors({**stored, "size": 40}) != []  # a create is held to all of it


def test_a_pattern_reads_as_go_and_a_schema_kube_would_refuse_holds_nothing() -> None:
    """Go's `\\z` ends a text; a pattern Python cannot read, or a CRD schema with a string
    where a number goes (kube-apiserver refuses such a CRD; the fake API does not yet), checks
    nothing rather than failing the write with a 500."""
    ending = {"type": "object", "properties": {"name": {"type": "string", "pattern": "^a+\\z"}}}
    assert custom_resource_errors(ending, {"name": "aa"}) == []
    assert custom_resource_errors(ending, {"name": "ab"}) == [
        "name: Invalid value: \"ab\": name in body should match '^a+\\z'"
    ]
    unicode = {"type": "object", "properties": {"name": {"type": "string", "pattern": "^\\pL+$"}}}
    assert custom_resource_errors(unicode, {"name": "1"}) == []
    malformed = {"type": "object", "properties": {"name": {"type": "string", "maxLength": "5"}}}
    assert custom_resource_errors(malformed, {"name": "toolongname"}) == []
