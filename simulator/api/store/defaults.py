"""The fields kube-apiserver fills in on every write (defaulting and admission), per kind.

Typed clients declare many of them required, so an object without them cannot be read at all
(the official client's models are strict). `default_fields` is idempotent and runs on creates
and main-resource updates, as the API server defaults every decoded object; `fill_on_create`
adds what only a create assigns (status phases, a Service's cluster IP, a CRD's conditions).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulator.api.fields import field_manager
from simulator.api.kinds import KindInfo
from simulator.api.store.kind_rules import secret_as_stored
from simulator.api.store.platform_defaults import PLATFORM_DEFAULTERS
from simulator.api.store.schema_defaults import default_custom_resource
from simulator.clock import rfc3339

__all__ = [
    "convert_pod_status",
    "crd_established",
    "default_fields",
    "fill_on_create",
    "storage_version",
    "store_storage_version",
]

Obj = dict[str, Any]

_PROBE = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
# The DefaultTolerationSeconds admission plugin's tolerations.
_TOLERATIONS = [
    {
        "key": f"node.kubernetes.io/{taint}",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    }
    for taint in ("not-ready", "unreachable")
]


def _pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    tag = name.partition(":")[2]
    return "Always" if tag in ("", "latest") else "IfNotPresent"


def _container(container: Obj) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _pull_policy(str(container.get("image", ""))))
    container.setdefault("resources", {})
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for entry in container.get("env") or []:
        field_ref = (entry.get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            for key, value in _PROBE.items():
                probe.setdefault(key, value)
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault("scheme", "HTTP")
                probe["httpGet"].setdefault("path", "/")


def _volume(volume: Obj) -> None:
    for source in ("secret", "configMap"):
        if isinstance(volume.get(source), dict):
            volume[source].setdefault("defaultMode", 420)
    if isinstance(volume.get("hostPath"), dict):
        volume["hostPath"].setdefault("type", "")


def _pod_spec(spec: Obj) -> None:
    """PodSpec defaulting, a Pod's and a template's."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                _container(container)
    for volume in spec.get("volumes") or []:
        if isinstance(volume, dict):
            _volume(volume)
    if spec.get("serviceAccountName"):
        # The v1 conversion writes the deprecated alias from the name, on templates too.
        spec["serviceAccount"] = spec["serviceAccountName"]


def _template(obj: Obj) -> None:
    template = (obj.get("spec") or {}).get("template")
    if isinstance(template, dict):
        meta = template.setdefault("metadata", {})
        if isinstance(meta, dict) and meta.get("creationTimestamp", "") is None:
            del meta["creationTimestamp"]  # Go's omitzero: a zero time is not written
        _pod_spec(template.setdefault("spec", {}))


def _qos(spec: Obj) -> str:
    resources = [c.get("resources") or {} for c in spec.get("containers") or []]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        set(r.get("limits") or {}) >= {"cpu", "memory"}
        and all(
            (r.get("requests") or r.get("limits") or {}).get(k) == r["limits"][k]
            for k in ("cpu", "memory")
        )
        for r in resources
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _pod(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    _pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)  # SetDefaults_Pod, not a template's


def _pod_admitted(obj: Obj) -> None:
    """What the ServiceAccount, Priority and DefaultTolerationSeconds admission plugins set on a
    new Pod (pod_admission.py does the rest of the first's work)."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("serviceAccountName", "default")
    spec["serviceAccount"] = spec["serviceAccountName"]
    spec.setdefault("priority", 0)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
    tolerations = spec.setdefault("tolerations", [])
    for toleration in _TOLERATIONS:
        if not any(t.get("key") == toleration["key"] for t in tolerations):
            tolerations.append(dict(toleration))


def _deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(obj)


def _replicaset(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj)


def _statefulset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    strategy = spec.setdefault("updateStrategy", {})
    if not strategy.get("type"):  # only then is a rolling update's setting made
        strategy["type"] = "RollingUpdate"
        if strategy.get("rollingUpdate") is None:
            strategy["rollingUpdate"] = {}
    rolling = strategy.get("rollingUpdate")
    if strategy["type"] == "RollingUpdate" and isinstance(rolling, dict):
        rolling.setdefault("partition", 0)
        rolling.setdefault("maxUnavailable", 1)  # MaxUnavailableStatefulSet: on since 1.37
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault(
        "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
    )
    for claim in spec.get("volumeClaimTemplates") or []:
        claim.setdefault("apiVersion", "v1")
        claim.setdefault("kind", "PersistentVolumeClaim")
        claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    _template(obj)


def _daemonset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {"maxUnavailable": 1, "maxSurge": 0})
    spec.setdefault("revisionHistoryLimit", 10)
    _template(obj)


def _job(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("parallelism", 1)
    spec.setdefault("completions", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    _template(obj)


def _cronjob(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    job = spec.get("jobTemplate")
    if isinstance(job, dict):
        # Only the pod template is defaulted: SetDefaults_Job is for Jobs, not a JobTemplateSpec
        # (the CronJob controller's create of each Job fills the rest).
        _template(job)


def _service(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec["sessionAffinity"] = spec.get("sessionAffinity") or "None"
    if spec["type"] != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
    external = spec["type"] == "ClusterIP" and spec.get("externalIPs")
    if external or spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    affinity = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP" and affinity.get("timeoutSeconds") is None:
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": 10800}}
    for port in spec.get("ports") or []:  # Go's zero values too: a typed client sends them
        port["protocol"] = port.get("protocol") or "TCP"
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port")
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _namespace(obj: Obj) -> None:
    name = str((obj.get("metadata") or {}).get("name", ""))
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name


def _namespace_finalizers(obj: Obj) -> None:
    # The namespace strategy keeps the finalizers asked for and always adds its own.
    spec = obj.setdefault("spec", {})
    finalizers = spec.setdefault("finalizers", [])
    if "kubernetes" not in finalizers:
        finalizers.append("kubernetes")


def _crd(obj: Obj) -> None:
    # SetDefaults_CustomResourceDefinitionSpec: the creator's fields, as any scheme default.
    spec = obj.setdefault("spec", {})
    spec.setdefault("conversion", {"strategy": "None"})
    names = spec.get("names")
    if isinstance(names, dict) and names.get("kind"):
        names.setdefault("singular", str(names["kind"]).lower())
        names.setdefault("listKind", f"{names['kind']}List")


def _claim(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")


def _volume_object(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")


def _secret(obj: Obj) -> None:
    if "stringData" in obj:
        stored = secret_as_stored(obj)
        obj.clear()
        obj.update(stored)
    obj.setdefault("type", "Opaque")


def _binding(obj: Obj) -> None:
    for subject in obj.get("subjects") or []:
        if subject.get("kind") in ("User", "Group"):
            subject.setdefault("apiGroup", "rbac.authorization.k8s.io")


def _priority_class(obj: Obj) -> None:
    obj.setdefault("preemptionPolicy", "PreemptLowerPriority")


def _endpoint_slice(obj: Obj) -> None:
    for port in obj.get("ports") or []:
        port.setdefault("protocol", "TCP")


_DEFAULTERS: dict[tuple[str, str], Callable[[Obj], None]] = {
    ("", "Pod"): _pod,
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
    ("", "Secret"): _secret,
    ("", "PersistentVolumeClaim"): _claim,
    ("", "PersistentVolume"): _volume_object,
    ("", "ReplicationController"): _replicaset,
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): _replicaset,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _cronjob,
    ("rbac.authorization.k8s.io", "RoleBinding"): _binding,
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): _binding,
    ("scheduling.k8s.io", "PriorityClass"): _priority_class,
    ("discovery.k8s.io", "EndpointSlice"): _endpoint_slice,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
    **PLATFORM_DEFAULTERS,
}
# What kube-apiserver's REST storage or admission fills after the field manager has seen a
# create (the namespace strategy's finalizer, the Service allocator's IP families, a Pod's
# account, priority and tolerations): on a create these are no manager's fields; on an update
# they are carried over from the live object.
_ASSIGNED: dict[tuple[str, str], Callable[[Obj], None]] = {
    ("", "Namespace"): _namespace_finalizers,
    ("", "Pod"): _pod_admitted,
}


_STATUS_ZEROS: dict[tuple[str, str], Obj] = {
    ("", "ReplicationController"): {"replicas": 0},
    ("apps", "ReplicaSet"): {"replicas": 0},
    ("apps", "StatefulSet"): {"replicas": 0, "availableReplicas": 0},
    ("apps", "DaemonSet"): {
        "currentNumberScheduled": 0,
        "numberMisscheduled": 0,
        "desiredNumberScheduled": 0,
        "numberReady": 0,
    },
    ("autoscaling", "HorizontalPodAutoscaler"): {"desiredReplicas": 0, "currentMetrics": None},
    ("networking.k8s.io", "Ingress"): {"loadBalancer": {}},
    ("policy", "PodDisruptionBudget"): {
        "disruptionsAllowed": 0,
        "currentHealthy": 0,
        "desiredHealthy": 0,
        "expectedPods": 0,
    },
}


def default_fields(info: KindInfo, obj: Obj, *, assigned: bool = True) -> None:
    """Fill the fields kube-apiserver defaults on every write of this kind (idempotent);
    `assigned=False` leaves out those its REST storage assigns (`_ASSIGNED`)."""
    if info.crd_name:
        default_custom_resource(info.schema, obj)
        return
    for table in (_DEFAULTERS, _ASSIGNED) if assigned else (_DEFAULTERS,):
        defaulter = table.get((info.group, info.kind))
        if defaulter is not None:
            defaulter(obj)
    if "status" in info.subresources and info.kind != "Node":
        # A built-in kind's status is a Go struct, encoded even when empty, with its fields
        # that are not `omitempty` (k8s.io/api v0.37 types.go): `"status": {"replicas": 0}`.
        status = obj.setdefault("status", {})
        if isinstance(status, dict):
            for key, value in _STATUS_ZEROS.get((info.group, info.kind), {}).items():
                status.setdefault(key, value)


def convert_pod_status(info: KindInfo, obj: Obj) -> None:
    """A Pod's addresses as kube-apiserver stores them whoever wrote the status: its internal
    PodStatus holds only the lists, so the v1 conversion (pkg/apis/core/v1/conversion.go; hostIPs
    since 1.28, KEP-2681) fills `podIPs`/`hostIPs` from a singular field an older kubelet wrote
    (the singular wins when they differ) and the singular from the list's first entry."""
    status = obj.get("status") if info.group == "" and info.kind == "Pod" else None
    if not isinstance(status, dict):
        return
    for single, plural in (("podIP", "podIPs"), ("hostIP", "hostIPs")):
        ip, ips = status.get(single), status.get(plural) or []
        if ip and (not ips or ips[0].get("ip") != ip):
            status[plural] = [{"ip": ip}]
        elif ips and not ip:
            status[single] = ips[0].get("ip")


def fill_on_create(info: KindInfo, obj: Obj, now: datetime) -> None:
    """Defaults, then what only a create assigns: status phases, CRD conditions (a Service's
    addresses: service_allocation.py)."""
    default_fields(info, obj)
    if info.group == "" and info.kind == "Namespace":
        obj.setdefault("status", {}).setdefault("phase", "Active")
    elif info.group == "" and info.kind == "Pod":
        status = obj.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status.setdefault("qosClass", _qos(obj.get("spec") or {}))
        convert_pod_status(info, obj)
    elif info.group == "batch" and info.kind == "Job":
        _job_selector(obj)
    elif info.group == "" and info.kind in ("PersistentVolumeClaim", "PersistentVolume"):
        obj.setdefault("status", {}).setdefault("phase", "Pending")
    elif info.group == "apiextensions.k8s.io":
        spec = obj.get("spec") or {}
        names = spec.get("names") or {}
        for key in ("shortNames", "categories"):  # `omitempty` lists: an empty one is dropped
            if names.get(key) == []:
                del names[key]
        # As created: the names are accepted and the CRD established a moment later, by
        # kube-apiserver's own controllers (`crd_established` is that second write).
        obj["status"] = {
            "conditions": None,
            "acceptedNames": {"plural": "", "kind": ""},
            "storedVersions": [v] if (v := storage_version(spec)) is not None else [],
        }
    zero = field_manager(info, "").zero if info.has_status and not info.crd_name else {}
    if "status" in zero and "status" not in obj:
        # A Go zero Status struct, as kube-apiserver stores it: `{}`, or `{"replicas": 0}`.
        obj["status"] = copy.deepcopy(zero["status"])


# The labels the Job strategy gives a Job's pods: the job's name and uid, each under its
# legacy and its batch.kubernetes.io key (pkg/apis/batch/types.go).
JOB_NAME_LABELS = ("job-name", "batch.kubernetes.io/job-name")
JOB_UID_LABELS = ("controller-uid", "batch.kubernetes.io/controller-uid")


def _job_selector(job: Obj) -> None:
    """What the Job strategy's PrepareForCreate generates unless `spec.manualSelector`
    (pkg/registry/batch/job/strategy.go): the pod template labelled with the job's name and
    uid, a selector on the uid; and the Job's own labels, when it has none, are its template's
    (SetDefaults_Job shares the map, so they carry the generated labels too)."""
    spec, meta = job.setdefault("spec", {}), job["metadata"]
    template = spec.setdefault("template", {}).setdefault("metadata", {})
    labels = dict(template.get("labels") or {})
    if spec.get("manualSelector") is not True:
        for key in JOB_NAME_LABELS:
            labels.setdefault(key, meta["name"])
        for key in JOB_UID_LABELS:
            labels.setdefault(key, meta["uid"])
        template["labels"] = dict(sorted(labels.items()))  # Go writes a map's keys sorted
        selector = spec.get("selector") or {}
        match = dict(selector.get("matchLabels") or {})
        match.setdefault(JOB_UID_LABELS[1], meta["uid"])
        spec["selector"] = {**selector, "matchLabels": match}
        spec["manualSelector"] = False  # written out, as the strategy writes it
    if not meta.get("labels") and template.get("labels"):
        meta["labels"] = dict(template["labels"])


def storage_version(spec: Obj) -> str | None:
    """A CRD spec's storage version: the first one marked so (validation allows one)."""
    versions = spec.get("versions")
    for version in versions if isinstance(versions, list) else []:
        if isinstance(version, dict) and version.get("storage") is True:
            return str(version.get("name"))
    return None


def store_storage_version(crd: Obj) -> None:
    """A CRD update's strategy (PrepareForUpdate): a new storage version joins the versions the
    status says objects may be stored in."""
    spec, status = crd.get("spec") or {}, crd.get("status")
    if not isinstance(status, dict):
        return
    stored = status.setdefault("storedVersions", [])
    storage = storage_version(spec)
    if isinstance(stored, list) and storage is not None and storage not in stored:
        stored.append(storage)


def crd_established(crd: Obj, now: datetime) -> Obj | None:
    """The status patch that accepts a new CRD's names and establishes it (what the naming and
    establishing controllers write just after the create), or None once that is done."""
    status = crd.get("status") or {}
    if status.get("conditions"):
        return None
    names = (crd.get("spec") or {}).get("names") or {}
    return {
        "status": {
            "acceptedNames": dict(names),
            "conditions": [
                {
                    "type": t,
                    "status": "True",
                    "lastTransitionTime": rfc3339(now),
                    "reason": r,
                    "message": m,
                }
                for t, r, m in (
                    ("NamesAccepted", "NoConflicts", "no conflicts found"),
                    ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                )
            ],
        }
    }
