"""Issue 12: a DaemonSet runs one pod on the node, as kube-controller-manager's controller does.

The DaemonSet controller pins a pod to each node (node affinity on `metadata.name`), adds the
daemon tolerations, labels it with the template's revision hash (a ControllerRevision) and
counts it in the status. Found running the official client's e2e suite
(`test_create_daemonset`) against a served world: the DaemonSet was stored but ran nothing.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from tests.integration.served_world import served_world, wait_for

DS = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "agent"},
    "spec": {
        "selector": {"matchLabels": {"app": "agent"}},
        "template": {
            "metadata": {"labels": {"app": "agent"}},
            "spec": {"containers": [{"name": "agent", "image": "nginx:1.27"}]},
        },
    },
}


def test_a_daemonset_runs_one_pinned_pod_per_node(tmp_path: Path) -> None:
    """One ready pod on the node, pinned and tolerant; revision, status and events agree."""
    with served_world(tmp_path) as (_world, api):
        core, apps = client.CoreV1Api(api.client()), client.AppsV1Api(api.client())
        apps.create_namespaced_daemon_set("shop", DS)
        (node,) = [n.metadata.name for n in core.list_node().items]

        def ready() -> client.V1DaemonSet | None:
            ds = apps.read_namespaced_daemon_set("agent", "shop")
            return ds if ds.status.number_ready == 1 else None

        ds = wait_for(ready, what="the daemon pod ready")
        assert (ds.status.desired_number_scheduled, ds.status.current_number_scheduled) == (1, 1)
        assert ds.status.updated_number_scheduled == 1
        (pod,) = core.list_namespaced_pod("shop", label_selector="app=agent").items
        assert pod.spec.node_name == node
        terms = pod.spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution
        assert terms.node_selector_terms[0].match_fields[0].values == [node]
        assert {"node.kubernetes.io/unreachable", "node.kubernetes.io/disk-pressure"} <= {
            t.key for t in pod.spec.tolerations
        }
        (revision,) = apps.list_namespaced_controller_revision("shop").items
        assert revision.metadata.owner_references[0].uid == ds.metadata.uid
        assert f"agent-{pod.metadata.labels['controller-revision-hash']}" == revision.metadata.name
        events = core.list_namespaced_event("shop", field_selector="involvedObject.name=agent")
        assert [(e.reason, e.source.component) for e in events.items] == [
            ("SuccessfulCreate", "daemonset-controller")
        ]
