"""A custom resource's defaults as apiextensions-apiserver fills them: cases from its own tests
(pkg/apiserver/schema/defaulting, algorithm_test.go and prunenulls_test.go, v0.37.2), with
the structural schemas written as a CRD's openAPIV3Schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simulator.api.store.schema_defaults import default_custom_resource

A_OR_B = {
    "type": "object",
    "properties": {
        "a": {"type": "string", "default": "A"},
        "b": {"type": "string", "default": "B"},
    },
}

CASES: dict[str, tuple[str, dict[str, Any], str]] = {
    "object array object": (
        '{"array":[{"a":1},{"b":2}],"object":{"a":1},'
        '"additionalProperties":{"x":{"a":1},"y":{"b":2}},"foo":"bar"}',
        {
            "type": "object",
            "properties": {
                "array": {"type": "array", "items": A_OR_B},
                "object": {
                    "type": "object",
                    "properties": {"a": {"type": "integer"}, "b": {"default": "O"}},
                },
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {"a": {"default": "alpha"}, "b": {"default": "beta"}},
                    },
                },
            },
        },
        '{"array":[{"a":1,"b":"B"},{"a":"A","b":2}],"object":{"a":1,"b":"O"},'
        '"additionalProperties":{"x":{"a":1,"b":"beta"},"y":{"a":"alpha","b":2}},"foo":"bar"}',
    ),
    # Only a missing key or a disallowed null is defaulted: zero values are values.
    "empty and null": (
        '{"l":[{},{"a":1},{"a":0},{"a":0.0},{"a":""},{"a":null},{"a":[]},{"a":{}}]}',
        {"type": "object", "properties": {"l": {"type": "array", "items": A_OR_B}}},
        '{"l":[{"a":"A","b":"B"},{"a":1,"b":"B"},{"a":0,"b":"B"},{"a":0.0,"b":"B"},'
        '{"a":"","b":"B"},{"a":"A","b":"B"},{"a":[],"b":"B"},{"a":{},"b":"B"}]}',
    ),
    "null in non-nullable list": (
        '{"l":[null]}',
        {"type": "object", "properties": {"l": {"type": "array", "items": {"default": "A"}}}},
        '{"l":["A"]}',
    ),
    "null in nullable list": (
        '{"l":[null]}',
        {
            "type": "object",
            "properties": {
                "l": {"type": "array", "items": {"default": "A", "nullable": True}},
            },
        },
        '{"l":[null]}',
    ),
    "null in non-nullable additionalProperties": (
        '{"m":{"a":null}}',
        {"type": "object", "properties": {"m": {"additionalProperties": {"default": "A"}}}},
        '{"m":{"a":"A"}}',
    ),
    "null unknown field": (
        '{"a":null}',
        {"type": "object", "properties": {"b": {"default": "B"}}},
        '{"a":null,"b":"B"}',
    ),
    # prunenulls_test.go's object array: a null with a default is defaulted, a nullable one
    # kept, one neither nullable nor defaulted pruned, an unknown field's left alone.
    "nulls pruned or defaulted": (
        '{"l":[{"a":null},{"b":null},{"c":null},{"d":null},{"e":null}]}',
        {
            "type": "object",
            "properties": {
                "l": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "a": {"default": "A"},
                            "b": {"nullable": True},
                            "c": {"default": "C", "nullable": True},
                            "d": {},
                        },
                    },
                }
            },
        },
        '{"l":[{"a":"A","c":"C"},{"a":"A","b":null,"c":"C"},{"a":"A","c":null},{"a":"A","c":"C"},'
        '{"a":"A","c":"C","e":null}]}',
    ),
    # A defaulted object is itself defaulted: its own properties' defaults fill it.
    "a default's missing properties": (
        "{}",
        {
            "type": "object",
            "properties": {
                "limits": {
                    "type": "object",
                    "default": {"cpu": "1"},
                    "properties": {"memory": {"type": "string", "default": "1Gi"}},
                }
            },
        },
        '{"limits":{"cpu":"1","memory":"1Gi"}}',
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_defaults_are_filled_as_apiextensions_fills_them(case: str) -> None:
    given, schema, expected = CASES[case]
    obj = json.loads(given)
    default_custom_resource(schema, obj)
    assert obj == json.loads(expected)


def test_a_default_is_copied_not_shared() -> None:
    schema = {"type": "object", "properties": {"m": {"type": "object", "default": {"k": []}}}}
    first: dict[str, Any] = {}
    second: dict[str, Any] = {}
    default_custom_resource(schema, first)
    default_custom_resource(schema, second)
    first["m"]["k"].append(1)
    assert second == {"m": {"k": []}}
    assert schema["properties"]["m"]["default"] == {"k": []}  # type: ignore[index]
