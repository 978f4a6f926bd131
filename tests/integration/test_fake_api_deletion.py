"""Issue 12, gap 8: deletion follows ownerReferences the way the garbage collector does.

`kubectl delete --cascade=background|foreground|orphan` (propagationPolicy Background,
Foreground with the foregroundDeletion finalizer, Orphan); the official client's DeleteOptions.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from tests.fixtures.manifests import widget_crd
from tests.integration.fake_api_harness import running_api
from tests.integration.served_world import WEB, raw_http, served_world, wait_for


def _owned(world: object, kind: str, api_version: str) -> list[dict]:
    return world.objects.list(api_version, kind, "shop")  # type: ignore[attr-defined, no-any-return]


def test_orphan_keeps_the_replicasets_and_pods(tmp_path: Path) -> None:
    """`--cascade=orphan`: the Deployment goes, its ReplicaSet and pods stay, unowned."""
    with served_world(tmp_path, WEB) as (world, api):
        wait_for(lambda: world.ready("Deployment", "web", "shop"), what="web ready")
        api.kubectl("delete", "deployment", "web", "-n", "shop", "--cascade=orphan")
        assert world.get("Deployment", "web", "shop") is None
        replica_sets = _owned(world, "ReplicaSet", "apps/v1")
        assert len(replica_sets) == 1
        assert not replica_sets[0]["metadata"].get("ownerReferences")
        assert len(world.pods("shop", app="web")) == 2


def test_background_deletes_dependents_after_the_owner(tmp_path: Path) -> None:
    """The default: the Deployment goes at once, then its ReplicaSet, then the pods."""
    with served_world(tmp_path, WEB) as (world, api):
        wait_for(lambda: world.ready("Deployment", "web", "shop"), what="web ready")
        apps = client.AppsV1Api(api.client())
        apps.delete_namespaced_deployment(
            "web", "shop", body=client.V1DeleteOptions(propagation_policy="Background")
        )
        wait_for(lambda: not _owned(world, "ReplicaSet", "apps/v1"), what="the ReplicaSet gone")
        wait_for(lambda: not world.pods("shop", app="web"), what="the pods gone")


def test_foreground_holds_the_owner_until_its_dependents_are_gone(tmp_path: Path) -> None:
    """A dependent with a finalizer keeps the owner, marked foregroundDeletion, until released."""
    with served_world(tmp_path, WEB) as (world, api):
        wait_for(lambda: world.ready("Deployment", "web", "shop"), what="web ready")
        core = client.CoreV1Api(api.client())
        deployment = world.get("Deployment", "web", "shop")
        core.create_namespaced_config_map(
            "shop",
            {
                "metadata": {
                    "name": "held",
                    "finalizers": ["example.com/hold"],
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": "web",
                            "uid": deployment["metadata"]["uid"],
                            "blockOwnerDeletion": True,
                        }
                    ],
                }
            },
        )
        api.kubectl(
            "delete", "deployment", "web", "-n", "shop", "--cascade=foreground", "--wait=false"
        )
        waiting = world.get("Deployment", "web", "shop")
        assert "foregroundDeletion" in waiting["metadata"]["finalizers"]
        assert waiting["metadata"]["deletionTimestamp"]
        assert not _owned(world, "ReplicaSet", "apps/v1")
        core.patch_namespaced_config_map("held", "shop", {"metadata": {"finalizers": None}})
        wait_for(lambda: world.get("Deployment", "web", "shop") is None, what="the owner to go")


def test_a_crd_is_answered_marked_for_cleanup_and_goes_with_its_resources(
    tmp_path: Path,
) -> None:
    """As kube-apiserver answers the delete of a CRD (appliance-sim fidelity compares them): the
    CRD marked, with apiextensions' cleanup finalizer and a Terminating condition; then its
    resources and the CRD itself are gone."""
    with running_api(tmp_path) as api:
        api.store.create(widget_crd({"size": {"type": "integer"}}))
        widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
        api.store.create(widget)
        crd = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"
        with raw_http(api) as http:
            answer = http.delete(crd).json()
        assert answer["kind"] == "CustomResourceDefinition"
        assert answer["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
        assert answer["metadata"]["deletionTimestamp"]
        terminating = answer["status"]["conditions"][-1]
        assert (terminating["type"], terminating["reason"]) == (
            "Terminating",
            "InstanceDeletionPending",
        )
        assert (
            api.store.get(
                "apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com"
            )
            is None
        )
        api.store.create(widget_crd({"size": {"type": "integer"}}))
        assert api.store.list("example.com/v1", "Widget") == []
