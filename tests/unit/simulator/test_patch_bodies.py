"""How a refused patch is quoted: kube-apiserver v1.37.2's words for the same bodies (the whole
refusals are compared with a real control plane's in test_fake_api_vs_apiserver_undeclared.py)."""

from __future__ import annotations

import pytest

from simulator.api.fields.fieldsets import go_map
from simulator.api.go_types import converter_error
from simulator.api.store.errors import InvalidError
from simulator.api.store.patch_bodies import patched_json, refuse_undeclared


def test_a_strategic_patch_reads_as_the_go_map_it_decoded_into() -> None:
    assert go_map({"data": {"x": "y"}, "bogus": 1}) == "map[bogus:1 data:map[x:y]]"
    assert go_map({"b": [1.5, True, None, "s"], "a": {}}) == "map[a:map[] b:[1.5 true <nil> s]]"
    assert go_map({"n": 2.0, "big": 1e21}) == "map[big:1e+21 n:2]"


def test_a_strict_patch_that_brings_an_unknown_field_is_a_422_quoting_what_it_checked() -> None:
    refuse_undeclared(go_map({"data": {}}), [])  # nothing brought: no refusal
    with pytest.raises(InvalidError) as raised:
        refuse_undeclared(go_map({"data": {"x": "y"}, "bogus": 1}), ['unknown field "bogus"'])
    assert str(raised.value) == (
        ' "" is invalid: patch: Invalid value: "map[bogus:1 data:map[x:y]]": '
        'strict decoding error: unknown field "bogus"'
    )
    assert raised.value.causes[0]["field"] == "patch"
    assert patched_json({"spec": {"b": 1, "a": "x"}, "kind": "W"}) == (
        '{"kind":"W","spec":{"a":"x","b":1}}'
    )


@pytest.mark.parametrize(
    ("found", "go_type", "converter"),
    [
        ("string", "int32", "unrecognized type: int32"),
        ("number", "string", "cannot convert int64 to string"),
        ("number 1.5", "int32", "cannot convert float64 to int32"),
        ("bool", "int32", "unrecognized type: int32"),
        ("string", "v1.PodTemplateSpec", "cannot restore struct from: string"),
        ("array", "map[string]string", "cannot restore map from slice"),
        ("object", "[]v1.Container", "cannot restore slice from map"),
        # Its own converters, and a number no int32: other words, or none.
        ("number", "resource.Quantity", None),
        ("number 3000000000", "int32", None),
    ],
)
def test_a_strategic_patch_gets_the_unstructured_converters_words(
    found: str, go_type: str, converter: str | None
) -> None:
    decoder = f"json: cannot unmarshal {found} into Go struct field Spec.spec.x of type {go_type}"
    assert converter_error(decoder) == converter
