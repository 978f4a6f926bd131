"""Built-in controllers, acting like a real cluster's so plain manifests come alive.

Deployment -> ReplicaSet -> Pods (`workflow-worker-7f6f96df87-lqgnj`), StatefulSet -> `db-0`,
Job -> Pod and Job conditions, and the workload status fields (replicas, readyReplicas,
availableReplicas, conditions) recomputed whenever a pod changes. Deleted pods are recreated, as
the field log's operators relied on (`kubectl delete pod db-0`).
"""

from __future__ import annotations

import copy
from typing import Any

from simulator.clock import rfc3339
from simulator.world.daemonsets import reconcile_daemonset
from simulator.world.objects import (
    Objects,
    condition,
    meta,
    owner_uid,
    pod_is_ready,
    set_condition,
    terminating,
)
from simulator.world.pod_creation import (
    REPLICA_FAILURE,
    create_pod,
    owner_reference,
    refused,
    replica_failure,
)
from simulator.world.revisions import (
    REVISION,
    controller_revision,
    latest,
    revision_of,
    same_template,
    with_revision,
)
from simulator.world.scheduling import Scheduler

__all__ = ["Controllers"]

Obj = dict[str, Any]
_OWNER_API = {"Job": "batch/v1", "ReplicationController": "v1"}  # else apps/v1
_WORKLOADS = {*_OWNER_API, "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}
# What admission looks up for a new pod (pod_creation.py), and who creates pods.
_ADMITTING = frozenset({"ServiceAccount", "PriorityClass"})
_POD_OWNERS = (
    ("apps/v1", "ReplicaSet"),
    ("v1", "ReplicationController"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
)
# How long the node's local-path provisioner takes to make a claim's volume (its helper pod
# creates the directory); the claim is Pending meanwhile. The control-plane backend's
# provisioner (simulator.controlplane.node) waits as long, so both backends show the same.
PROVISION_SECONDS = 45.0


class Controllers:
    """Reconciles workloads; `handle` is fed every store change (on the scheduler's thread)."""

    def __init__(self, objects: Objects, *, scheduler: Scheduler) -> None:
        self.objects = objects
        self.scheduler = scheduler

    def handle(self, event_type: str, obj: Obj) -> None:
        """React to one change of any object."""
        kind = obj.get("kind")
        if kind == "Pod":
            self._pod_changed(event_type, obj)
        elif kind == "Node" and event_type == "ADDED":  # a new node gets every daemon's pod
            for ds in self.objects.list("apps/v1", "DaemonSet", None):
                self.handle("MODIFIED", ds)
        elif kind in _ADMITTING and event_type == "ADDED":
            # What a refused pod lacked may be this: the controllers' retries would now pass.
            namespace = meta(obj).get("namespace")
            for api_version, owner_kind in _POD_OWNERS:
                for owner in self.objects.list(api_version, owner_kind, namespace):
                    self.handle("MODIFIED", owner)
        elif kind in _WORKLOADS and event_type != "DELETED":
            current = self.objects.fresh(obj)
            # A workload being deleted is left to the garbage collector, as the real
            # controllers leave it (a foreground deletion must not see its pods re-created).
            if current is not None and not meta(current).get("deletionTimestamp"):
                getattr(self, f"_reconcile_{str(kind).lower()}")(current)

    # -- workloads ---------------------------------------------------------------------------

    def _reconcile_deployment(self, deploy: Obj) -> None:
        m = meta(deploy)
        ns = m.get("namespace")
        template = (deploy.get("spec") or {}).get("template") or {}
        pod_hash = self.objects.template_hash(template)
        name = f"{m['name']}-{pod_hash}"
        replicas = int((deploy.get("spec") or {}).get("replicas", 1))
        owned = [
            rs
            for rs in self.objects.list("apps/v1", "ReplicaSet", ns)
            if owner_uid(rs, "Deployment") == m.get("uid")
        ]
        running = next((rs for rs in owned if same_template(rs, template)), None)
        if running is not None:
            # Also after a rollback: the old template's ReplicaSet comes back, renumbered.
            name = str(meta(running)["name"])
        revision = revision_of(running) if running is not None else latest(owned) + 1
        if running is not None and revision < latest(owned):
            revision = latest(owned) + 1
            annotations = with_revision(meta(running).get("annotations") or {}, revision)
            self.objects.patch(running, {"metadata": {"annotations": annotations}})
        self.objects.patch(deploy, {"metadata": {"annotations": {REVISION: str(revision)}}})
        for rs in owned:
            if meta(rs).get("name") != name and int((rs.get("spec") or {}).get("replicas", 0)):
                # A template change rolls out by recreating: old pods go, new ones come.
                self.objects.patch(rs, {"spec": {"replicas": 0}})
        if running is None:
            labels = dict(((template.get("metadata") or {}).get("labels")) or {})
            labels["pod-template-hash"] = pod_hash
            rs_template = copy.deepcopy(template)
            rs_template.setdefault("metadata", {})["labels"] = labels
            selector = copy.deepcopy((deploy.get("spec") or {}).get("selector") or {})
            selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
            self.objects.create(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": name,
                        "namespace": ns,
                        "labels": labels,
                        "annotations": _rs_annotations(deploy, revision, replicas),
                        "ownerReferences": [owner_reference(deploy)],
                    },
                    "spec": {"replicas": replicas, "selector": selector, "template": rs_template},
                }
            )
            self.objects.event(
                deploy,
                "ScalingReplicaSet",
                f"Scaled up replica set {name} from 0 to {replicas}",
                source="deployment-controller",
            )
        else:
            for rs in owned:
                current = int((rs.get("spec") or {}).get("replicas", 0))
                if meta(rs).get("name") == name and current != replicas:
                    self.objects.patch(rs, {"spec": {"replicas": replicas}})
        self._deployment_status(deploy)

    def _reconcile_replicaset(self, rs: Obj) -> None:
        m = meta(rs)
        rc = rs.get("kind") == "ReplicationController"
        source = "replication-controller" if rc else "replicaset-controller"
        replicas = int((rs.get("spec") or {}).get("replicas", 1))
        pods = self._owned_pods(rs)
        for pod in pods[replicas:]:
            self.objects.delete(pod)
        refusal = None
        for _ in range(replicas - len(pods)):
            name = f"{m['name']}-{self.objects.suffix()}"
            refusal = self._create_pod(rs, name, extra_labels={})
            if refusal is not None:
                break  # the controller's batch stops at its first error
            self.objects.event(rs, "SuccessfulCreate", f"Created pod: {name}", source=source)
        conditions = (rs.get("status") or {}).get("conditions") or []
        self._replicaset_status(rs, refused(conditions, refusal, now=self.objects.clock.now()))

    # kube-controller-manager runs the ReplicaSet controller's code for ReplicationControllers.
    _reconcile_replicationcontroller = _reconcile_replicaset

    def _reconcile_statefulset(self, sts: Obj) -> None:
        m = meta(sts)
        spec = sts.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        # A Terminating pod still holds its name: its successor waits until it is gone.
        existing = {meta(p).get("name") for p in self._owned_pods(sts, terminating_too=True)}
        revision = self._ensure_revision(sts)
        for claim in spec.get("volumeClaimTemplates") or []:
            for index in range(replicas):
                self._ensure_claim(sts, claim, index)
        for index in range(replicas):
            name = f"{m['name']}-{index}"
            if name not in existing:
                refusal = self._create_pod(
                    sts,
                    name,
                    extra_labels={
                        "statefulset.kubernetes.io/pod-name": name,
                        "apps.kubernetes.io/pod-index": str(index),
                        "controller-revision-hash": revision,
                    },
                    claims={
                        meta(c).get("name", ""): f"{meta(c).get('name')}-{m['name']}-{index}"
                        for c in spec.get("volumeClaimTemplates") or []
                    },
                )
                if refusal is not None:
                    break  # OrderedReady: the next pod waits for this one
                self.objects.event(
                    sts,
                    "SuccessfulCreate",
                    f"Create Pod {name} in StatefulSet {m['name']} successful",
                    source="statefulset-controller",
                )
        self._statefulset_status(sts, revision)

    def _reconcile_daemonset(self, ds: Obj) -> None:
        revision = self._ensure_revision(ds)
        reconcile_daemonset(self.objects, ds, revision, self._owned_pods, self._create_pod)

    def _ensure_revision(self, sts: Obj) -> str:
        """The ControllerRevision of a StatefulSet's or DaemonSet's template (made when new)."""
        m = meta(sts)
        name = f"{m['name']}-" + self.objects.template_hash((sts.get("spec") or {}).get("template"))
        owned = [
            r
            for r in self.objects.list("apps/v1", "ControllerRevision", m.get("namespace"))
            if owner_uid(r, str(sts.get("kind"))) == m.get("uid")
        ]
        if not any(meta(r).get("name") == name for r in owned):
            number = max((int(r.get("revision") or 0) for r in owned), default=0) + 1
            self.objects.create(controller_revision(sts, owner_reference(sts), name, number))
        return name

    def _reconcile_job(self, job: Obj) -> None:
        status = job.get("status") or {}
        if condition(job, "Complete") or condition(job, "Failed"):
            return
        pods = self._owned_pods(job)
        active = [p for p in pods if (p.get("status") or {}).get("phase") not in _DONE]
        succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
        failed = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Failed")
        now = self.objects.clock.now()
        backoff_limit = int((job.get("spec") or {}).get("backoffLimit", 6))
        if succeeded:
            conditions = set_condition(
                status.get("conditions") or [],
                "SuccessCriteriaMet",
                "True",
                now=now,
                reason="CompletionsReached",
                message="Reached expected number of succeeded pods",
            )
            conditions = set_condition(
                conditions,
                "Complete",
                "True",
                now=now,
                reason="CompletionsReached",
                message="Reached expected number of succeeded pods",
            )
            self.objects.patch_status(
                job,
                {
                    "succeeded": succeeded,
                    "failed": failed,
                    "active": 0,
                    "completionTime": rfc3339(now),
                    "conditions": conditions,
                },
            )
            self.objects.event(job, "Completed", "Job completed", source="job-controller")
            return
        if failed > backoff_limit:
            conditions = set_condition(
                status.get("conditions") or [],
                "FailureTarget",
                "True",
                now=now,
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
            conditions = set_condition(
                conditions,
                "Failed",
                "True",
                now=now,
                reason="BackoffLimitExceeded",
                message="Job has reached the specified backoff limit",
            )
            self.objects.patch_status(
                job, {"failed": failed, "active": 0, "conditions": conditions}
            )
            self.objects.event(
                job,
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                type="Warning",
                source="job-controller",
            )
            return
        if not active:
            name = f"{meta(job)['name']}-{self.objects.suffix()}"
            labels = {
                "job-name": meta(job)["name"],
                "batch.kubernetes.io/job-name": meta(job)["name"],
                "controller-uid": str(meta(job).get("uid")),
                "batch.kubernetes.io/controller-uid": str(meta(job).get("uid")),
            }
            if self._create_pod(job, name, extra_labels=labels) is None:
                self.objects.event(
                    job, "SuccessfulCreate", f"Created pod: {name}", source="job-controller"
                )
                active = [{}]
        patch: Obj = {"active": len(active), "failed": failed}
        if not status.get("startTime"):
            patch["startTime"] = rfc3339(now)
        self.objects.patch_status(job, patch)

    # -- pods and status -----------------------------------------------------------------------

    def _pod_changed(self, event_type: str, pod: Obj) -> None:
        for ref in meta(pod).get("ownerReferences") or []:
            if not ref.get("controller"):
                continue
            owner_kind = ref.get("kind")
            api_version = _OWNER_API.get(str(owner_kind), "apps/v1")
            owner = self.objects.get(
                api_version, str(owner_kind), str(ref.get("name")), meta(pod).get("namespace")
            )
            if owner is None or meta(owner).get("uid") != ref.get("uid") or terminating(owner):
                continue  # an owner being deleted is left to the garbage collector
            gone = event_type == "DELETED" or terminating(pod)
            if owner_kind in ("ReplicaSet", "ReplicationController"):
                if gone:
                    self._reconcile_replicaset(owner)
                else:
                    self._replicaset_status(owner)
            elif owner_kind == "StatefulSet":
                if event_type == "DELETED":
                    self._reconcile_statefulset(owner)
                else:
                    self._statefulset_status(owner, self._ensure_revision(owner))
            elif owner_kind == "Job":
                self._reconcile_job(owner)
            elif owner_kind == "DaemonSet":
                self._reconcile_daemonset(owner)

    def _replicaset_status(self, rs: Obj, conditions: list[Obj] | None = None) -> None:
        """Its counts, and after a sync its conditions (None: kept as they are)."""
        pods = self._owned_pods(rs)
        ready = sum(1 for p in pods if pod_is_ready(p))
        status: Obj = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": meta(rs).get("generation", 1),
        }
        if conditions is not None:
            status["conditions"] = conditions or None  # none left: the field goes
        self.objects.patch_status(rs, status)
        owner = owner_uid(rs, "Deployment")
        if owner:
            for ref in meta(rs).get("ownerReferences") or []:
                if ref.get("uid") == owner:
                    deploy = self.objects.get(
                        "apps/v1", "Deployment", ref["name"], meta(rs).get("namespace")
                    )
                    if deploy is not None:
                        self._deployment_status(deploy)

    def _deployment_status(self, deploy: Obj) -> None:
        m = meta(deploy)
        want = int((deploy.get("spec") or {}).get("replicas", 1))
        sets = [
            rs
            for rs in self.objects.list("apps/v1", "ReplicaSet", m.get("namespace"))
            if owner_uid(rs, "Deployment") == m.get("uid")
        ]
        pods = [p for rs in sets for p in self._owned_pods(rs)]
        ready = sum(1 for p in pods if pod_is_ready(p))
        now = self.objects.clock.now()
        pod_hash = self.objects.template_hash((deploy.get("spec") or {}).get("template") or {})
        conditions = (deploy.get("status") or {}).get("conditions") or []
        available = ready >= want
        conditions = set_condition(
            conditions,
            "Available",
            "True" if available else "False",
            now=now,
            reason="MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
            message="Deployment has minimum availability."
            if available
            else "Deployment does not have minimum availability.",
        )
        conditions = set_condition(
            conditions,
            "Progressing",
            "True",
            now=now,
            reason="NewReplicaSetAvailable" if available else "ReplicaSetUpdated",
            message=f'ReplicaSet "{m["name"]}-{pod_hash}" '
            + ("has successfully progressed." if available else "is progressing."),
        )
        failure = replica_failure(sets)
        if failure is None:
            conditions = [c for c in conditions if c.get("type") != REPLICA_FAILURE]
        else:
            conditions = set_condition(
                conditions,
                REPLICA_FAILURE,
                "True",
                now=now,
                reason=str(failure.get("reason", "")),
                message=str(failure.get("message", "")),
            )
        self.objects.patch_status(
            deploy,
            {
                "observedGeneration": m.get("generation", 1),
                "replicas": len(pods),
                "updatedReplicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "unavailableReplicas": max(want - ready, 0),
                "conditions": conditions,
            },
        )

    def _statefulset_status(self, sts: Obj, revision: str) -> None:
        pods = self._owned_pods(sts)
        ready = sum(1 for p in pods if pod_is_ready(p))
        self.objects.patch_status(
            sts,
            {
                "observedGeneration": meta(sts).get("generation", 1),
                "replicas": len(pods),
                "currentReplicas": len(pods),
                "updatedReplicas": len(pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "currentRevision": revision,
                "updateRevision": revision,
                "collisionCount": 0,
            },
        )

    def _owned_pods(self, owner: Obj, *, terminating_too: bool = False) -> list[Obj]:
        """The owner's pods; active ones only (as controllers count) unless asked."""
        uid = meta(owner).get("uid")
        pods = [
            p
            for p in self.objects.list("v1", "Pod", meta(owner).get("namespace"))
            if owner_uid(p) == uid and (terminating_too or not terminating(p))
        ]
        return sorted(pods, key=lambda p: str(meta(p).get("name")))

    def _create_pod(self, owner: Obj, name: str, **how: Any) -> str | None:
        """Create a pod of `owner` (pod_creation.create_pod); the refusal, if refused."""
        return create_pod(self.objects, owner, name, **how)

    def _ensure_claim(self, sts: Obj, claim: Obj, index: int) -> None:
        name = f"{meta(claim).get('name')}-{meta(sts)['name']}-{index}"
        ns = meta(sts).get("namespace")
        if self.objects.get("v1", "PersistentVolumeClaim", name, ns) is not None:
            return
        created = self.objects.create(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "labels": dict(meta(claim).get("labels") or {}),
                },
                "spec": copy.deepcopy(claim.get("spec") or {}),
            }
        )
        if created is None:
            return
        spec = claim.get("spec") or {}
        bound = {
            "phase": "Bound",
            "accessModes": spec.get("accessModes", ["ReadWriteOnce"]),
            "capacity": (spec.get("resources") or {}).get("requests", {}),
        }
        # Pending until the node's provisioner has made the volume, as on a cluster.
        self.scheduler.call_later(PROVISION_SECONDS, lambda: _bind(self.objects, created, bound))


_DONE = {"Succeeded", "Failed"}


def _rs_annotations(deploy: Obj, revision: int, replicas: int) -> dict[str, str]:
    """What the deployment controller writes on a new ReplicaSet (`kubectl rollout history`
    reads the revision and the change cause)."""
    out = {REVISION: str(revision), "deployment.kubernetes.io/desired-replicas": str(replicas)}
    cause = (meta(deploy).get("annotations") or {}).get("kubernetes.io/change-cause")
    if cause:
        out["kubernetes.io/change-cause"] = str(cause)
    return out


def _bind(objects: Objects, claim: Obj, status: Obj) -> None:
    objects.patch_status(claim, status)
