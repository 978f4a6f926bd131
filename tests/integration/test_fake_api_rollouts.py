"""Issue 12, gap 7: rollout revisions, so `kubectl rollout history` and `rollout undo` work.

Deployments and their ReplicaSets carry `deployment.kubernetes.io/revision`; a rollback reuses
the old template's ReplicaSet under the next number. StatefulSets keep ControllerRevisions.
"""

from __future__ import annotations

from pathlib import Path

from tests.integration.served_world import WEB, served_world, wait_for

WORLD = (
    WEB
    + """
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, namespace: shop}
    spec:
      serviceName: db
      replicas: 1
      selector: {matchLabels: {app: db}}
      template:
        metadata: {labels: {app: db}}
        spec:
          containers: [{name: db, image: "nginx:1.27"}]
"""
)


def _images(world: object, app: str) -> set[str]:
    return {
        c["image"]
        for p in world.pods("shop", app=app)
        for c in p["spec"]["containers"]  # type: ignore[attr-defined]
    }


def test_rollout_history_and_undo_of_a_deployment(tmp_path: Path) -> None:
    """Two revisions after an image change; undo brings the first template back as revision 3."""
    with served_world(tmp_path, WORLD) as (world, api):
        wait_for(lambda: world.ready("Deployment", "web", "shop"), what="web ready")
        api.kubectl("set", "image", "deployment/web", "web=nginx:1.28", "-n", "shop")
        api.kubectl(
            "annotate", "deployment/web", "-n", "shop", "kubernetes.io/change-cause=to 1.28"
        )
        wait_for(lambda: _images(world, "web") == {"nginx:1.28"}, what="1.28 rolled out")
        history = api.kubectl("rollout", "history", "deployment/web", "-n", "shop").stdout
        revisions = [line.split()[0] for line in history.splitlines() if line[:1].isdigit()]
        assert revisions == ["1", "2"], history
        assert (
            world.get("Deployment", "web", "shop")["metadata"]["annotations"][
                "deployment.kubernetes.io/revision"
            ]
            == "2"
        )
        undone = api.kubectl("rollout", "undo", "deployment/web", "-n", "shop").stdout
        assert "rolled back" in undone
        wait_for(lambda: _images(world, "web") == {"nginx:1.27"}, what="1.27 back")
        history = api.kubectl("rollout", "history", "deployment/web", "-n", "shop").stdout
        revisions = [line.split()[0] for line in history.splitlines() if line[:1].isdigit()]
        assert revisions == ["2", "3"], history
        replica_sets = world.objects.list("apps/v1", "ReplicaSet", "shop")
        assert len(replica_sets) == 2  # the first ReplicaSet came back; none was added
        detail = api.kubectl(
            "rollout", "history", "deployment/web", "-n", "shop", "--revision=3"
        ).stdout
        assert "nginx:1.27" in detail


def test_rollout_history_of_a_statefulset_lists_its_controller_revisions(tmp_path: Path) -> None:
    """A template change adds a ControllerRevision; pods carry the revision's hash label."""
    with served_world(tmp_path, WORLD) as (world, api):
        wait_for(lambda: world.ready("StatefulSet", "db", "shop"), what="db ready")
        api.kubectl("set", "image", "statefulset/db", "db=nginx:1.28", "-n", "shop")
        wait_for(
            lambda: len(world.objects.list("apps/v1", "ControllerRevision", "shop")) == 2,
            what="a second ControllerRevision",
        )
        history = api.kubectl("rollout", "history", "statefulset/db", "-n", "shop").stdout
        revisions = [line.split()[0] for line in history.splitlines() if line[:1].isdigit()]
        assert revisions == ["1", "2"], history
        status = world.get("StatefulSet", "db", "shop")["status"]
        assert status["updateRevision"].startswith("db-")
