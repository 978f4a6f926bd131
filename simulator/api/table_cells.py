"""The cells of kube-apiserver's Tables, kind by kind, in virtual time.

Each reader computes a column's cell as k8s.io/kubernetes v1.37's printer does
(`pkg/printers/internalversion/printers.go`: printPod, printService, printJob, ...); `tables.py`
puts them under the columns of `table_columns.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulator.api.selectors import selector_text
from simulator.api.store.default_classes import BETA_STORAGE_CLASS

__all__ = [
    "FLUX_READERS",
    "READERS",
    "Reader",
    "access_modes",
    "human_age",
    "human_duration",
    "number_at",
    "spec_of",
    "value_at",
]

Obj = dict[str, Any]
Reader = Callable[[Obj, datetime], Any]


def _parse(ts: Any) -> datetime | None:
    if not ts or not isinstance(ts, str):
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_age(ts: Any, now: datetime) -> str:
    """kubectl's short human duration (`45s`, `5m12s`, `3h`, `2d`) since `ts`; `<unknown>`."""
    then = _parse(ts)
    return "<unknown>" if then is None else human_duration((now - then).total_seconds())


def human_duration(total: float) -> str:  # noqa: PLR0911 - apimachinery's HumanDuration steps
    """apimachinery's `duration.HumanDuration` of `total` seconds."""
    seconds = int(total)
    if seconds < -1:  # a clock more than a second behind
        return "<invalid>"
    if seconds < 0:
        return "0s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    if days < 365 * 8:
        return f"{days // 365}y{days % 365}d" if days % 365 else f"{days // 365}y"
    return f"{days // 365}y"


def _meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def spec_of(obj: Obj) -> Obj:
    """An object's spec; {} when it has none."""
    return obj.get("spec") or {}


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def value_at(path: str, default: Any = "<none>") -> Reader:
    """The reader of the value at a dotted `path`; `default` where it is missing or empty."""

    def read(obj: Obj, _now: datetime) -> Any:
        node: Any = obj
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return default if node in (None, "") else node

    return read


def number_at(path: str) -> Reader:
    """The reader of the integer at a dotted `path`; 0 where it is missing."""

    def read(obj: Obj, now: datetime) -> int:
        return int(value_at(path, 0)(obj, now) or 0)

    return read


def _size(*paths: str) -> Reader:
    def read(obj: Obj, now: datetime) -> int:
        return sum(len(value_at(p, {})(obj, now)) for p in paths)

    return read


def _template_containers(key: str) -> Reader:
    def read(obj: Obj, _now: datetime) -> str:
        pod = spec_of(spec_of(obj).get("template") or {})
        return ",".join(str(c.get(key, "")) for c in pod.get("containers") or [])

    return read


def _selector(obj: Obj, _now: datetime) -> str:
    return selector_text(spec_of(obj).get("selector")) or "<none>"


def _ready_of(ready: str) -> Reader:
    def read(obj: Obj, _now: datetime) -> str:
        return f"{_status(obj).get(ready) or 0}/{spec_of(obj).get('replicas', 1)}"

    return read


def _condition(kind: str, *, field: str = "status", missing: str = "Unknown") -> Reader:
    def read(obj: Obj, _now: datetime) -> str:
        for c in _status(obj).get("conditions") or []:
            if c.get("type") == kind:
                return str(c.get(field, missing))
        return missing

    return read


# -- pods ---------------------------------------------------------------------------------------


def _pod_ready(obj: Obj, _now: datetime) -> str:
    statuses = _status(obj).get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready") and (s.get("state") or {}).get("running"))
    return f"{ready}/{len(spec_of(obj).get('containers') or [])}"


def _pod_status(obj: Obj, _now: datetime) -> str:
    status = _status(obj)
    reason = str(status.get("reason") or status.get("phase") or "")
    for index, cs in enumerate(status.get("initContainerStatuses") or []):
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated") or {}, state.get("waiting") or {}
        if terminated.get("exitCode") == 0 and "terminated" in state:
            continue
        if terminated:
            reason = (
                f"Init:{terminated.get('reason') or 'ExitCode:' + str(terminated.get('exitCode'))}"
            )
        elif waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{index}/{len(spec_of(obj).get('initContainers') or [])}"
        return reason
    for cs in reversed(status.get("containerStatuses") or []):
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated") or {}, state.get("waiting") or {}
        if waiting.get("reason"):
            reason = str(waiting["reason"])
        elif terminated:
            reason = str(terminated.get("reason") or f"ExitCode:{terminated.get('exitCode')}")
    phase = status.get("phase")
    if _meta(obj).get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        return "Terminating"
    return reason


def _pod_restarts(obj: Obj, now: datetime) -> str:
    statuses = _status(obj).get("containerStatuses") or []
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
    finished = [
        t
        for s in statuses
        if (t := _parse(((s.get("lastState") or {}).get("terminated") or {}).get("finishedAt")))
    ]
    if restarts and finished:
        return f"{restarts} ({human_duration((now - max(finished)).total_seconds())} ago)"
    return str(restarts)


def _pod_ip(obj: Obj, _now: datetime) -> str:
    ips = _status(obj).get("podIPs") or []
    return str(ips[0].get("ip") or "<none>") if ips else "<none>"


def _readiness_gates(obj: Obj, _now: datetime) -> str:
    gates = spec_of(obj).get("readinessGates") or []
    if not gates:
        return "<none>"
    true = {
        c.get("type") for c in _status(obj).get("conditions") or [] if c.get("status") == "True"
    }
    return f"{sum(1 for g in gates if g.get('conditionType') in true)}/{len(gates)}"


# -- services -----------------------------------------------------------------------------------


def _external_ip(obj: Obj, _now: datetime) -> str:
    spec = spec_of(obj)
    external = list(spec.get("externalIPs") or [])
    kind = spec.get("type", "ClusterIP")
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if kind == "ExternalName":
        return str(spec.get("externalName", ""))
    ingress = (_status(obj).get("loadBalancer") or {}).get("ingress") or []
    found = [str(i.get("ip") or i.get("hostname") or "") for i in ingress] + external
    return ",".join(found) or "<pending>"


def _ports(obj: Obj, _now: datetime) -> str:
    pieces = []
    for port in spec_of(obj).get("ports") or []:
        node = f":{port['nodePort']}" if port.get("nodePort") else ""
        pieces.append(f"{port.get('port')}{node}/{port.get('protocol', 'TCP')}")
    return ",".join(pieces) or "<none>"


def _label_map(path: str) -> Reader:
    def read(obj: Obj, now: datetime) -> str:
        labels = value_at(path, {})(obj, now)
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items())) or "<none>"

    return read


# -- jobs and claims ----------------------------------------------------------------------------


def _job_status(obj: Obj, _now: datetime) -> str:
    true = {
        c.get("type") for c in _status(obj).get("conditions") or [] if c.get("status") == "True"
    }
    for kind, shown in (("Complete", "Complete"), ("Failed", "Failed")):
        if kind in true:
            return shown
    if _meta(obj).get("deletionTimestamp"):
        return "Terminating"
    for kind in ("Suspended", "FailureTarget", "SuccessCriteriaMet"):
        if kind in true:
            return kind
    return "Running"


def _completions(obj: Obj, _now: datetime) -> str:
    spec, succeeded = spec_of(obj), _status(obj).get("succeeded") or 0
    if spec.get("completions") is not None:
        return f"{succeeded}/{spec['completions']}"
    parallelism = int(spec.get("parallelism") or 0)
    return f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"


def _job_duration(obj: Obj, now: datetime) -> str:
    start = _parse(_status(obj).get("startTime"))
    if start is None:
        return ""
    end = _parse(_status(obj).get("completionTime")) or now
    return human_duration((end - start).total_seconds())


# GetAccessModesAsString: in this order, whatever order they are listed in.
_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)


def access_modes(modes: Any) -> str:
    """A volume's or claim's access modes as kubectl abbreviates them."""
    given = set(modes or ())
    return ",".join(short for mode, short in _MODES if mode in given)


def _claim_bound(read: Reader) -> Reader:
    def cell(obj: Obj, now: datetime) -> Any:
        return read(obj, now) if spec_of(obj).get("volumeName") else ""

    return cell


def _claim_phase(obj: Obj, now: datetime) -> str:
    deleting = _meta(obj).get("deletionTimestamp")
    return "Terminating" if deleting else str(_status(obj).get("phase", ""))


def _claim_class(obj: Obj, _now: datetime) -> str:
    annotated = (_meta(obj).get("annotations") or {}).get(BETA_STORAGE_CLASS)
    return str(annotated or spec_of(obj).get("storageClassName") or "")


# -- nodes and events ---------------------------------------------------------------------------


def _node_status(obj: Obj, now: datetime) -> str:
    ready = _condition("Ready", missing="")(obj, now)
    shown = ["Ready" if ready == "True" else "NotReady"] if ready else ["Unknown"]
    return ",".join(shown + (["SchedulingDisabled"] if spec_of(obj).get("unschedulable") else []))


def _node_roles(obj: Obj, _now: datetime) -> str:
    roles = set()
    for key, value in (_meta(obj).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key.split("/", 1)[1]:
            roles.add(key.split("/", 1)[1])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(kind: str) -> Reader:
    def read(obj: Obj, _now: datetime) -> str:
        for address in _status(obj).get("addresses") or []:
            if address.get("type") == kind:
                return str(address.get("address", "<none>"))
        return "<none>"

    return read


def _node_info(key: str, *, arch: bool = False) -> Reader:
    def read(obj: Obj, _now: datetime) -> str:
        info = _status(obj).get("nodeInfo") or {}
        value = str(info.get(key) or "<unknown>")
        return f"{value} ({info['architecture']})" if arch and info.get("architecture") else value

    return read


def _event_first(obj: Obj, now: datetime) -> str:
    return human_age(obj.get("firstTimestamp") or obj.get("eventTime"), now)


def _event_last(obj: Obj, now: datetime) -> str:
    series = obj.get("series") or {}
    if series:
        return human_age(series.get("lastObservedTime"), now)
    return (
        human_age(obj.get("lastTimestamp"), now)
        if obj.get("lastTimestamp")
        else _event_first(obj, now)
    )


def _event_object(obj: Obj, _now: datetime) -> str:
    ref = obj.get("involvedObject") or {}
    kind = str(ref.get("kind", "")).lower()
    return f"{kind}/{ref['name']}" if ref.get("name") else kind


def _event_source(obj: Obj, _now: datetime) -> str:
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""  # core's name
    host = source.get("host") or obj.get("reportingInstance") or ""
    return f"{component}, {host}" if host else str(component)


def _endpoints(obj: Obj, _now: datetime) -> str:
    """printers.go formatEndpoints: each address with each port (the bare address where a
    subset has no ports), the first three, then how many more."""
    subsets = obj.get("subsets") or []
    if not subsets:
        return "<none>"
    shown = [
        ip if port is None else (f"[{ip}]" if ":" in ip else ip) + f":{port.get('port')}"
        for subset in subsets
        for port in subset.get("ports") or [None]
        for ip in (str(a.get("ip", "")) for a in subset.get("addresses") or [])
    ]
    more = f" + {len(shown) - 3} more..." if len(shown) > 3 else ""
    return ",".join(shown[:3]) + more


def _event_count(obj: Obj, _now: datetime) -> int:
    series = obj.get("series") or {}
    return int(series.get("count") or obj.get("count") or 1)


_WORKLOAD: dict[str, Reader] = {
    "Containers": _template_containers("name"),
    "Images": _template_containers("image"),
    "Selector": _selector,
}
READERS: dict[tuple[str, str], dict[str, Reader]] = {
    ("", "configmaps"): {"Data": _size("data", "binaryData")},
    ("", "secrets"): {"Type": value_at("type", ""), "Data": _size("data")},
    ("", "namespaces"): {"Status": value_at("status.phase", "")},
    ("", "services"): {
        "Type": value_at("spec.type", ""),
        "Cluster-IP": lambda o, _n: str((spec_of(o).get("clusterIPs") or ["<none>"])[0]),
        "External-IP": _external_ip,
        "Port(s)": _ports,
        "Selector": _label_map("spec.selector"),
    },
    ("", "pods"): {
        "Ready": _pod_ready,
        "Status": _pod_status,
        "Restarts": _pod_restarts,
        "IP": _pod_ip,
        "Node": value_at("spec.nodeName"),
        "Nominated Node": value_at("status.nominatedNodeName"),
        "Readiness Gates": _readiness_gates,
    },
    ("apps", "deployments"): {
        **_WORKLOAD,
        "Ready": _ready_of("readyReplicas"),
        "Up-to-date": number_at("status.updatedReplicas"),
        "Available": number_at("status.availableReplicas"),
    },
    ("apps", "statefulsets"): {**_WORKLOAD, "Ready": _ready_of("readyReplicas")},
    ("apps", "replicasets"): {
        **_WORKLOAD,
        "Desired": number_at("spec.replicas"),
        "Current": number_at("status.replicas"),
        "Ready": number_at("status.readyReplicas"),
    },
    ("", "replicationcontrollers"): {
        **_WORKLOAD,
        "Selector": _label_map("spec.selector"),
        "Desired": number_at("spec.replicas"),
        "Current": number_at("status.replicas"),
        "Ready": number_at("status.readyReplicas"),
    },
    ("", "endpoints"): {"Endpoints": _endpoints},
    ("batch", "jobs"): {
        **_WORKLOAD,
        "Status": _job_status,
        "Completions": _completions,
        "Duration": _job_duration,
    },
    ("", "persistentvolumeclaims"): {
        "Status": _claim_phase,
        "Volume": value_at("spec.volumeName", ""),
        "Capacity": _claim_bound(value_at("status.capacity.storage", "")),
        "Access Modes": _claim_bound(lambda o, _n: access_modes(_status(o).get("accessModes"))),
        "StorageClass": _claim_class,
        "VolumeAttributesClass": value_at("spec.volumeAttributesClassName", "<unset>"),
        "VolumeMode": value_at("spec.volumeMode", "<unset>"),
    },
    ("", "nodes"): {
        "Status": _node_status,
        "Roles": _node_roles,
        "Version": value_at("status.nodeInfo.kubeletVersion", ""),
        "Internal-IP": _node_address("InternalIP"),
        "External-IP": _node_address("ExternalIP"),
        "OS-Image": _node_info("osImage"),
        "Kernel-Version": _node_info("kernelVersion", arch=True),
        "Container-Runtime": _node_info("containerRuntimeVersion"),
    },
    ("", "events"): {
        "Last Seen": _event_last,
        "Type": value_at("type", ""),
        "Reason": value_at("reason", ""),
        "Object": _event_object,
        "Subobject": value_at("involvedObject.fieldPath", ""),
        "Source": _event_source,
        "Message": lambda o, _n: str(o.get("message") or "").strip(),
        "First Seen": _event_first,
        "Count": _event_count,
    },
}
FLUX_READERS: dict[str, Reader] = {
    "Ready": _condition("Ready"),
    "Status": _condition("Ready", field="message", missing=""),
}
