"""The columns kube-apiserver v1.37 puts in the Tables of the workload-adjacent kinds an admin
lists (DaemonSets, CronJobs, HorizontalPodAutoscalers, ControllerRevisions, PodTemplates,
Leases, CustomResourceDefinitions), with their cells, as `pkg/printers/internalversion/
printers.go` (and apiextensions-apiserver's CRD table convertor) make them; the server asks for
the wide cells too. A description is its field's documentation without the enum values the
OpenAPI documents append."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from simulator.api.selectors import selector_text
from simulator.api.table_cells import Reader, human_age, number_at, spec_of, value_at
from simulator.api.table_columns import AGE, CONTAINERS, IMAGES, NAME, Column
from simulator.api.table_columns_policy import CREATED_AT, created_at

__all__ = ["APPS_COLUMNS", "APPS_READERS", "labels_text", "pod_template_cells"]

Obj = dict[str, Any]
_CREATED_AT = CREATED_AT

_DAEMONSETS_DESIRED = (
    "The total number of nodes that should be running the daemon pod (including nodes "
    "correctly running the daemon pod). More info: "
    "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
)
_DAEMONSETS_CURRENT = (
    "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
    "daemon pod. More info: "
    "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
)
_DAEMONSETS_READY = (
    "numberReady is the number of nodes that should be running the daemon pod and have one or"
    " more of the daemon pod running with a Ready Condition."
)
_DAEMONSETS_UP_TO_DATE = "The total number of nodes that are running updated daemon pod"
_DAEMONSETS_AVAILABLE = (
    "The number of nodes that should be running the daemon pod and have one or more of the "
    "daemon pod running and available (ready for at least spec.minReadySeconds)"
)
_DAEMONSETS_NODE_SELECTOR = (
    "NodeSelector is a selector which must be true for the pod to fit on a node. Selector "
    "which must match a node's labels for the pod to be scheduled on that node. More info: "
    "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"
)
_DAEMONSETS_SELECTOR = (
    "A label query over pods that are managed by the daemon set. Must match in order to be "
    "controlled. It must match the pod template's labels. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-"
    "selectors"
)
_CRONJOBS_SCHEDULE = "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."
_CRONJOBS_TIMEZONE = (
    "The time zone name for the given schedule, see "
    "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this "
    "will default to the time zone of the kube-controller-manager process. The set of valid "
    "time zone names and the time zone offset is loaded from the system-wide time zone "
    "database by the API server during CronJob validation and the controller manager during "
    "execution. If no system-wide time zone database can be found a bundled version of the "
    "database is used instead. If the time zone name becomes invalid during the lifetime of a"
    " CronJob or due to a change in host configuration, the controller will stop creating new"
    " new Jobs and will create a system event with the reason UnknownTimeZone. More "
    "information can be found in "
    "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"
)
_CRONJOBS_SUSPEND = (
    "This flag tells the controller to suspend subsequent executions, it does not apply to "
    "already started executions.  Defaults to false."
)
_CRONJOBS_ACTIVE = "A list of pointers to currently running jobs."
_CRONJOBS_LAST_SCHEDULE = "Information when was the last time the job was successfully scheduled."
_CRONJOBS_SELECTOR = (
    "A label query over pods that should match the pod count. Normally, the system sets this "
    "field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-"
    "objects/labels/#label-selectors"
)
_HORIZONTALPODAUTOSCALERS_REFERENCE = (
    "scaleTargetRef points to the target resource to scale, and is used to the pods for which"
    " metrics should be collected, as well as to actually change the replica count."
)
_HORIZONTALPODAUTOSCALERS_TARGETS = (
    "metrics contains the specifications for which to use to calculate the desired replica "
    "count (the maximum replica count across all metrics will be used).  The desired replica "
    "count is calculated multiplying the ratio between the target value and the current value"
    " by the current number of pods.  Ergo, metrics used must decrease as the pod count is "
    "increased, and vice-versa.  See the individual metric source types for more information "
    "about how each type of metric must respond. If not set, the default metric will be set "
    "to 80% average CPU utilization."
)
_HORIZONTALPODAUTOSCALERS_MINPODS = (
    "minReplicas is the lower limit for the number of replicas to which the autoscaler can "
    "scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature "
    "gate HPAScaleToZero is enabled and at least one Object or External metric is configured."
    "  Scaling is active as long as at least one metric value is available."
)
_HORIZONTALPODAUTOSCALERS_MAXPODS = (
    "maxReplicas is the upper limit for the number of replicas to which the autoscaler can "
    "scale up. It cannot be less that minReplicas."
)
_HORIZONTALPODAUTOSCALERS_REPLICAS = (
    "currentReplicas is current number of replicas of pods managed by this autoscaler, as "
    "last seen by the autoscaler."
)
_CONTROLLERREVISIONS_CONTROLLER = "Controller of the object"
_CONTROLLERREVISIONS_REVISION = "Revision indicates the revision of the state represented by Data."
_PODTEMPLATES_CONTAINERS = "Names of each container in the template."
_PODTEMPLATES_IMAGES = "Images referenced by each container in the template."
_PODTEMPLATES_POD_LABELS = "The labels for the pod template."
_LEASES_HOLDER = (
    "holderIdentity contains the identity of the holder of a current lease. If Coordinated "
    "Leader Election is used, the holder identity must be equal to the elected "
    "LeaseCandidate.metadata.name field."
)
_CUSTOMRESOURCEDEFINITIONS_SCOPE = "Cluster/Namespaced"
_CUSTOMRESOURCEDEFINITIONS_VERSIONS = "Served versions"
_CUSTOMRESOURCEDEFINITIONS_GROUP = "API group"
_CUSTOMRESOURCEDEFINITIONS_KIND = "CustomResource kind"
_CUSTOMRESOURCEDEFINITIONS_SHORTNAMES = "Short names"
_CUSTOMRESOURCEDEFINITIONS_ESTABLISHED = "Established status"

APPS_COLUMNS: dict[tuple[str, str], tuple[Column, ...]] = {
    ("apps", "daemonsets"): (
        NAME,
        ("Desired", "integer", "", 0, _DAEMONSETS_DESIRED),
        ("Current", "integer", "", 0, _DAEMONSETS_CURRENT),
        ("Ready", "integer", "", 0, _DAEMONSETS_READY),
        ("Up-to-date", "integer", "", 0, _DAEMONSETS_UP_TO_DATE),
        ("Available", "integer", "", 0, _DAEMONSETS_AVAILABLE),
        ("Node Selector", "string", "", 0, _DAEMONSETS_NODE_SELECTOR),
        AGE,
        CONTAINERS,
        IMAGES,
        ("Selector", "string", "", 1, _DAEMONSETS_SELECTOR),
    ),
    ("batch", "cronjobs"): (
        NAME,
        ("Schedule", "string", "", 0, _CRONJOBS_SCHEDULE),
        ("Timezone", "string", "", 0, _CRONJOBS_TIMEZONE),
        ("Suspend", "boolean", "", 0, _CRONJOBS_SUSPEND),
        ("Active", "integer", "", 0, _CRONJOBS_ACTIVE),
        ("Last Schedule", "string", "", 0, _CRONJOBS_LAST_SCHEDULE),
        AGE,
        CONTAINERS,
        IMAGES,
        ("Selector", "string", "", 1, _CRONJOBS_SELECTOR),
    ),
    ("autoscaling", "horizontalpodautoscalers"): (
        NAME,
        ("Reference", "string", "", 0, _HORIZONTALPODAUTOSCALERS_REFERENCE),
        ("Targets", "string", "", 0, _HORIZONTALPODAUTOSCALERS_TARGETS),
        ("MinPods", "string", "", 0, _HORIZONTALPODAUTOSCALERS_MINPODS),
        ("MaxPods", "string", "", 0, _HORIZONTALPODAUTOSCALERS_MAXPODS),
        ("Replicas", "string", "", 0, _HORIZONTALPODAUTOSCALERS_REPLICAS),
        AGE,
    ),
    ("apps", "controllerrevisions"): (
        NAME,
        ("Controller", "string", "", 0, _CONTROLLERREVISIONS_CONTROLLER),
        ("Revision", "string", "", 0, _CONTROLLERREVISIONS_REVISION),
        AGE,
    ),
    ("", "podtemplates"): (
        NAME,
        ("Containers", "string", "", 0, _PODTEMPLATES_CONTAINERS),
        ("Images", "string", "", 0, _PODTEMPLATES_IMAGES),
        ("Pod Labels", "string", "", 0, _PODTEMPLATES_POD_LABELS),
    ),
    ("coordination.k8s.io", "leases"): (NAME, ("Holder", "string", "", 0, _LEASES_HOLDER), AGE),
    ("apiextensions.k8s.io", "customresourcedefinitions"): (
        NAME,
        ("Scope", "string", "", 0, _CUSTOMRESOURCEDEFINITIONS_SCOPE),
        ("Versions", "string", "", 0, _CUSTOMRESOURCEDEFINITIONS_VERSIONS),
        _CREATED_AT,
        ("Group", "string", "", 1, _CUSTOMRESOURCEDEFINITIONS_GROUP),
        ("Kind", "string", "", 1, _CUSTOMRESOURCEDEFINITIONS_KIND),
        ("ShortNames", "string", "", 1, _CUSTOMRESOURCEDEFINITIONS_SHORTNAMES),
        ("Established", "boolean", "", 1, _CUSTOMRESOURCEDEFINITIONS_ESTABLISHED),
    ),
}


def labels_text(labels: Any) -> str:
    """labels.FormatLabels: `k=v` pairs by key, `<none>` for none."""
    if not isinstance(labels, dict) or not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def pod_template_cells(template: Obj) -> tuple[str, str]:
    """layoutContainerCells: a pod template's container names and images, comma-joined."""
    containers = (template.get("spec") or {}).get("containers") or []
    names = ",".join(str(c.get("name", "")) for c in containers)
    return names, ",".join(str(c.get("image", "")) for c in containers)


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def _template(path: str, cell: int) -> Reader:
    """The reader of a pod template's container names (`cell` 0) or images (1)."""
    template = value_at(path, {})
    return lambda obj, now: pod_template_cells(template(obj, now))[cell]


def _selector_at(path: str) -> Reader:
    """The reader of a label selector's text (metav1.FormatLabelSelector)."""
    selector = value_at(path, None)
    return lambda obj, now: selector_text(selector(obj, now)) or "<none>"


def _cron_last_schedule(obj: Obj, now: datetime) -> str:
    last = _status(obj).get("lastScheduleTime")
    return human_age(last, now) if last else "<none>"


def _bool_or_unset(value: Any) -> str:
    """printBoolPtr."""
    return "<unset>" if value is None else ("True" if value else "False")


def _quantity(value: Any) -> str:
    return str(value) if value not in (None, "") else "0"


def _hpa_metric(spec: Obj, status: Obj | None) -> str:
    """One of formatHPAMetrics' entries: current/target of a metric source."""
    kind = spec.get("type")
    source_key = {
        "External": "external",
        "Pods": "pods",
        "Object": "object",
        "Resource": "resource",
        "ContainerResource": "containerResource",
    }.get(str(kind))
    if source_key is None:
        return "<unknown type>"
    source, current = spec.get(source_key) or {}, (status or {}).get(source_key)
    target, now = source.get("target") or {}, (current or {}).get("current") or {}
    if source_key == "pods":
        shown = _quantity(now.get("averageValue")) if current else "<unknown>"
        return f"{shown}/{_quantity(target.get('averageValue'))}"
    if source_key in ("external", "object"):
        if target.get("averageValue") is not None:
            shown = str(now["averageValue"]) if now.get("averageValue") is not None else "<unknown>"
            return f"{shown}/{target['averageValue']} (avg)"
        shown = _quantity(now.get("value")) if current else "<unknown>"
        return f"{shown}/{_quantity(target.get('value'))}"
    name = source.get("name", "")
    if target.get("averageValue") is not None:
        shown = _quantity(now.get("averageValue")) if current else "<unknown>"
        return f"{name}: {shown}/{target['averageValue']}"
    utilization = now.get("averageUtilization")
    shown = f"{utilization}%" if current and utilization is not None else "<unknown>"
    wanted = target.get("averageUtilization")
    return f"{name}: {shown}/{wanted}%" if wanted is not None else f"{name}: {shown}/<auto>"


def _hpa_targets(obj: Obj, _now: datetime) -> str:
    """formatHPAMetrics: at most two entries, then how many more."""
    specs = spec_of(obj).get("metrics") or []
    if not specs:
        return "<none>"
    statuses = _status(obj).get("currentMetrics") or []
    shown = [
        _hpa_metric(spec, statuses[i] if i < len(statuses) else None)
        for i, spec in enumerate(specs)
    ]
    if len(shown) > 2:
        return f"{', '.join(shown[:2])} + {len(shown) - 2} more..."
    return ", ".join(shown)


def _hpa_reference(obj: Obj, _now: datetime) -> str:
    ref = spec_of(obj).get("scaleTargetRef") or {}
    return f"{ref.get('kind', '')}/{ref.get('name', '')}"


def _hpa_min(obj: Obj, _now: datetime) -> str:
    value = spec_of(obj).get("minReplicas")
    return "<unset>" if value is None else str(value)


def _revision_controller(obj: Obj, _now: datetime) -> str:
    """The controller owner as `kind.group/name` in lower case (formatResourceName)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            group = str(ref.get("apiVersion", "")).rpartition("/")[0]
            kind = f"{ref.get('kind', '')}.{group}" if group else str(ref.get("kind", ""))
            return f"{kind.lower()}/{ref.get('name', '')}"
    return "<none>"


def _crd_versions(obj: Obj, _now: datetime) -> str:
    served = [
        f"{v.get('name', '')}(storage)" if v.get("storage") else str(v.get("name", ""))
        for v in spec_of(obj).get("versions") or []
        if v.get("served")
    ]
    return ",".join(sorted(served))


def _crd_established(obj: Obj, _now: datetime) -> bool:
    return any(
        c.get("type") == "Established" and c.get("status") == "True"
        for c in _status(obj).get("conditions") or []
    )


_JOB_TEMPLATE = "spec.jobTemplate.spec.template"
APPS_READERS: dict[tuple[str, str], dict[str, Reader]] = {
    ("apps", "daemonsets"): {
        "Desired": number_at("status.desiredNumberScheduled"),
        "Current": number_at("status.currentNumberScheduled"),
        "Ready": number_at("status.numberReady"),
        "Up-to-date": number_at("status.updatedNumberScheduled"),
        "Available": number_at("status.numberAvailable"),
        "Node Selector": lambda o, _n: labels_text(
            ((spec_of(o).get("template") or {}).get("spec") or {}).get("nodeSelector")
        ),
        "Containers": _template("spec.template", 0),
        "Images": _template("spec.template", 1),
        "Selector": _selector_at("spec.selector"),
    },
    ("batch", "cronjobs"): {
        "Schedule": lambda o, _n: str(spec_of(o).get("schedule", "")),
        "Timezone": lambda o, _n: str(spec_of(o).get("timeZone") or "<none>"),
        "Suspend": lambda o, _n: _bool_or_unset(spec_of(o).get("suspend")),
        "Active": lambda o, _n: len(_status(o).get("active") or []),
        "Last Schedule": _cron_last_schedule,
        "Containers": _template(_JOB_TEMPLATE, 0),
        "Images": _template(_JOB_TEMPLATE, 1),
        "Selector": _selector_at("spec.jobTemplate.spec.selector"),
    },
    ("autoscaling", "horizontalpodautoscalers"): {
        "Reference": _hpa_reference,
        "Targets": _hpa_targets,
        "MinPods": _hpa_min,
        "MaxPods": number_at("spec.maxReplicas"),
        "Replicas": number_at("status.currentReplicas"),
    },
    ("apps", "controllerrevisions"): {
        "Controller": _revision_controller,
        "Revision": number_at("revision"),
    },
    ("", "podtemplates"): {
        "Containers": _template("template", 0),
        "Images": _template("template", 1),
        "Pod Labels": lambda o, _n: labels_text(
            ((o.get("template") or {}).get("metadata") or {}).get("labels")
        ),
    },
    ("coordination.k8s.io", "leases"): {
        "Holder": lambda o, _n: str(spec_of(o).get("holderIdentity") or ""),
    },
    ("apiextensions.k8s.io", "customresourcedefinitions"): {
        "Scope": lambda o, _n: str(spec_of(o).get("scope", "")),
        "Versions": _crd_versions,
        "Created At": created_at,
        "Group": lambda o, _n: str(spec_of(o).get("group", "")),
        "Kind": lambda o, _n: str((spec_of(o).get("names") or {}).get("kind", "")),
        "ShortNames": lambda o, _n: ",".join(
            (spec_of(o).get("names") or {}).get("shortNames") or []
        ),
        "Established": _crd_established,
    },
}
