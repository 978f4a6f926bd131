"""A custom resource's CEL rules, in kube-apiserver v1.37's words (each answer as a real control
plane gave it; test_fake_api_vs_apiserver_cr_rules.py compares them live)."""

from __future__ import annotations

from typing import Any

from simulator.api.store.cel_rules import rule_errors
from simulator.api.store.schema_validation import custom_resource_errors

_SPEC = {
    "type": "object",
    "x-kubernetes-validations": [
        {"rule": "self.min <= self.max", "message": "min must not exceed max"},
        {"rule": "!has(self.secret)", "reason": "FieldValueForbidden", "message": "no secrets"},
        {
            "rule": "size(self.name) <= 8",
            "messageExpression": "'name ' + self.name + ' is longer than 8'",
        },
    ],
    "properties": {
        "min": {"type": "integer"},
        "max": {"type": "integer"},
        "name": {"type": "string"},
        "secret": {"type": "string"},
        "level": {"type": "string", "enum": ["low", "high"]},
        "tier": {
            "type": "string",
            "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "immutable"}],
        },
        "slug": {
            "type": "string",
            "x-kubernetes-validations": [{"rule": "self.lowerAscii() == self"}],
        },
    },
}
SCHEMA: dict[str, Any] = {"type": "object", "properties": {"spec": _SPEC}}


def _obj(**spec: Any) -> dict[str, Any]:
    return {"spec": {"min": 1, "max": 2, "name": "gate", **spec}}


def test_a_valid_object_breaks_no_rule() -> None:
    assert rule_errors(SCHEMA, _obj(slug="a-b")) == []


def test_failed_rules_speak_as_kube_apiserver() -> None:
    assert rule_errors(SCHEMA, _obj(min=3)) == ["spec: Invalid value: min must not exceed max"]
    assert rule_errors(SCHEMA, _obj(secret="s")) == ["spec: Forbidden: no secrets"]
    assert rule_errors(SCHEMA, _obj(name="a-very-long-name")) == [
        "spec: Invalid value: name a-very-long-name is longer than 8"
    ]
    assert rule_errors(SCHEMA, _obj(slug="A")) == [
        'spec.slug: Invalid value: "A": failed rule: self.lowerAscii() == self'
    ]


def test_an_absent_field_is_no_such_key() -> None:
    assert rule_errors(SCHEMA, {"spec": {"min": 1, "name": "gate"}}) == [
        'spec: Invalid value: "object": no such key: max evaluating rule: min must not exceed max'
    ]


def test_transition_rules_run_on_updates_and_unchanged_values_are_ratcheted() -> None:
    assert rule_errors(SCHEMA, _obj(tier="gold")) == []
    assert rule_errors(SCHEMA, _obj(tier="silver"), _obj(tier="gold")) == [
        'spec.tier: Invalid value: "silver": immutable'
    ]
    broken = _obj(min=3)
    assert rule_errors(SCHEMA, broken, broken) == []


def test_the_schemas_own_errors_keep_the_rules_from_running() -> None:
    assert custom_resource_errors(SCHEMA, _obj(min=3, level="mid")) == [
        'spec.level: Unsupported value: "mid": supported values: "low", "high"',
        "<nil>: Invalid value: null: some validation rules were not checked because the object "
        "was invalid; correct the existing errors to complete validation",
    ]
