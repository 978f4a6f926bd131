"""Builders of Kubernetes objects exactly as the API (and `kubectl get -o json`) returns them.

Messages are real kubelet / containerd / Flux / Helm texts from the field log, not shorthand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from appliance.canonical import LoginProbe
from appliance.dumps import snapshot_from_objects
from appliance.snapshot import Snapshot

Obj = dict[str, Any]

NOW = datetime(2026, 4, 29, 15, 0, 0, tzinfo=UTC)
NODE = "appliance-single-node"
APP_URL = "http://192.168.64.8:3000"
CORE_IMAGE = "ghcr.io/nine-minds/alga-psa-ee:94446747"
RELEASE = "sebastian"

# Real messages (field log, kubelet/containerd/Flux/Helm formats).
MSG_DNS_PULL = (
    'Failed to pull image "ghcr.io/nine-minds/alga-psa-ee:94446747": rpc error: code = Unknown '
    'desc = failed to pull and unpack image "ghcr.io/nine-minds/alga-psa-ee:94446747": failed to '
    'resolve reference "ghcr.io/nine-minds/alga-psa-ee:94446747": failed to do request: Head '
    '"https://ghcr.io/v2/nine-minds/alga-psa-ee/manifests/94446747": dial tcp: lookup ghcr.io on '
    "192.168.64.1:53: connection refused"
)
MSG_DNS_GIT = (
    "failed to checkout and determine revision: unable to clone "
    "'https://github.com/nine-minds/alga-psa': Get \"https://github.com/nine-minds/alga-psa/info/"
    'refs?service=git-upload-pack": dial tcp: lookup github.com on 10.96.0.10:53: server '
    "misbehaving"
)
MSG_SUBPATH = 'failed to create subPath directory for volumeMount "db-data" of container "postgres"'
MSG_HELM_TIMEOUT = (
    "Helm install failed for release msp/alga-core with chart alga-core@0.1.0: "
    "context deadline exceeded"
)
MSG_TEMPORAL_SCHEMA = (
    "Unable to start server. Error: sql schema version compatibility check failed: unable to "
    "read DB schema version keyspace/database: temporal error: no usable database"
)
MSG_SERVICE_LINK = (
    "failed to load config: yaml: unmarshal errors:\n  line 15: cannot unmarshal !!str "
    "`tcp://10.96.12.7:8080` into int"
)


def missing_tag_message(image: str) -> str:
    """containerd's NotFound pull failure as the kubelet reports it."""
    return (
        f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
        f'unpack image "{image}": failed to resolve reference "{image}": {image}: not found'
    )


def canceled_pull_message(image: str) -> str:
    """containerd's canceled pull (finding-15)."""
    return (
        f'Failed to pull image "{image}": rpc error: code = Canceled desc = failed to pull and '
        f'unpack image "{image}": failed to copy: httpReadSeeker: failed open: failed to do '
        f'request: Get "https://ghcr.io/v2/": context canceled'
    )


def ts(offset_seconds: float = 0) -> str:
    """RFC 3339 as the API writes it, relative to NOW."""
    when = NOW + timedelta(seconds=offset_seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _uid(*parts: str) -> str:
    digest = hashlib.sha1("/".join(parts).encode(), usedforsecurity=False).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _rv(*parts: str) -> str:
    return str(
        int(hashlib.sha1("".join(parts).encode(), usedforsecurity=False).hexdigest()[:6], 16)
    )


def _meta(kind: str, name: str, namespace: str | None, created: str, labels: Obj | None) -> Obj:
    meta: Obj = {
        "creationTimestamp": created,
        "name": name,
        "resourceVersion": _rv(kind, name),
        "uid": _uid(kind, namespace or "", name),
    }
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


def node(name: str = NODE, *, ready: bool = True, message: str | None = None) -> Obj:
    """A Talos node as the API returns it."""
    cond_ready = {
        "lastHeartbeatTime": ts(-30),
        "lastTransitionTime": ts(-3000),
        "message": message
        or ("kubelet is posting ready status" if ready else "container runtime network not ready"),
        "reason": "KubeletReady" if ready else "KubeletNotReady",
        "status": "True" if ready else "False",
        "type": "Ready",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": _meta(
            "Node",
            name,
            None,
            ts(-7200),
            {"kubernetes.io/hostname": name, "node-role.kubernetes.io/control-plane": ""},
        ),
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "addresses": [
                {"address": "192.168.64.8", "type": "InternalIP"},
                {"address": name, "type": "Hostname"},
            ],
            "conditions": [
                {
                    "lastHeartbeatTime": ts(-30),
                    "lastTransitionTime": ts(-7000),
                    "message": "kubelet has sufficient memory available",
                    "reason": "KubeletHasSufficientMemory",
                    "status": "False",
                    "type": "MemoryPressure",
                },
                cond_ready,
            ],
            "nodeInfo": {
                "containerRuntimeVersion": "containerd://2.1.5",
                "kubeletVersion": "v1.31.4",
                "osImage": "Talos (v1.12.0)",
            },
        },
    }


def _container_status(
    container: str,
    image: str,
    *,
    ready: bool,
    waiting: tuple[str, str | None] | None,
    terminated: tuple[str, str | None] | None,
    restarts: int,
) -> Obj:
    state: Obj
    if waiting is not None:
        reason, message = waiting
        state = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
    else:
        state = {"running": {"startedAt": ts(-3000)}}
    last: Obj = {}
    if terminated is not None:
        reason, message = terminated
        last = {
            "terminated": {
                "containerID": "containerd://" + _uid(container, "last").replace("-", ""),
                "exitCode": 1,
                "finishedAt": ts(-40),
                "reason": reason,
                "startedAt": ts(-45),
                **({"message": message} if message else {}),
            }
        }
    status: Obj = {
        "image": image,
        "imageID": ""
        if waiting and waiting[0] != "CrashLoopBackOff"
        else f"{image}@sha256:" + hashlib.sha256(image.encode()).hexdigest(),
        "lastState": last,
        "name": container,
        "ready": ready,
        "restartCount": restarts,
        "started": ready,
        "state": state,
    }
    if waiting is None or waiting[0] == "CrashLoopBackOff":
        status["containerID"] = "containerd://" + _uid(container, image).replace("-", "")
    return status


def pod(
    name: str,
    *,
    namespace: str = "msp",
    labels: Obj | None = None,
    image: str = "docker.io/library/busybox:1.36",
    container: str | None = None,
    ready: bool = True,
    waiting: tuple[str, str | None] | None = None,
    init_waiting: tuple[str, str | None] | None = None,
    init_image: str | None = None,
    terminated: tuple[str, str | None] | None = None,
    phase: str | None = None,
    restarts: int = 0,
    volumes: list[Obj] | None = None,
    created: str | None = None,
    scheduled: tuple[str, str] | None = None,
) -> Obj:
    """A pod; `waiting=(reason, message)` makes its container wait, `terminated` its last exit."""
    container = (
        container or (labels or {}).get("app.kubernetes.io/name") or name.split("-", maxsplit=1)[0]
    )
    if phase is None:
        phase = "Running" if ready or (waiting and waiting[0] == "CrashLoopBackOff") else "Pending"
    conditions = [
        {"lastProbeTime": None, "lastTransitionTime": ts(-3500), "status": "True", "type": t}
        for t in ("PodReadyToStartContainers", "Initialized")
    ]
    if ready:
        conditions += [
            {"lastProbeTime": None, "lastTransitionTime": ts(-3000), "status": "True", "type": t}
            for t in ("Ready", "ContainersReady")
        ]
    else:
        conditions += [
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(-3000),
                "message": f"containers with unready status: [{container}]",
                "reason": "ContainersNotReady",
                "status": "False",
                "type": t,
            }
            for t in ("Ready", "ContainersReady")
        ]
    if scheduled is not None:
        reason, message = scheduled
        conditions.append(
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(-900),
                "message": message,
                "reason": reason,
                "status": "False",
                "type": "PodScheduled",
            }
        )
    else:
        conditions.append(
            {
                "lastProbeTime": None,
                "lastTransitionTime": ts(-3600),
                "status": "True",
                "type": "PodScheduled",
            }
        )
    spec: Obj = {
        "containers": [
            {
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "name": container,
                "resources": {},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "FallbackToLogsOnError",
            }
        ],
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": True,
        "nodeName": NODE,
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "serviceAccountName": "default",
        "volumes": volumes or [],
    }
    status: Obj = {
        "conditions": conditions,
        "hostIP": "192.168.64.8",
        "phase": phase,
        "podIP": "10.244.0.17",
        "qosClass": "BestEffort",
        "startTime": created or ts(-3600),
    }
    if scheduled is None:
        status["containerStatuses"] = [
            _container_status(
                container,
                image,
                ready=ready,
                waiting=waiting if not ready else None,
                terminated=terminated,
                restarts=restarts,
            )
        ]
    if init_image is not None:
        spec["initContainers"] = [{"image": init_image, "name": "init", "resources": {}}]
        status["initContainerStatuses"] = [
            _container_status(
                "init",
                init_image,
                ready=False,
                waiting=init_waiting,
                terminated=None,
                restarts=0,
            )
        ]
    if not ready and waiting and waiting[0] == "ContainerCreating" and init_image is None:
        status.pop("podIP")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta("Pod", name, namespace, created or ts(-3600), labels),
        "spec": spec,
        "status": status,
    }


def _workload(  # noqa: PLR0917 - private helper, every argument is needed
    kind: str, api: str, name: str, namespace: str, labels: Obj, replicas: int, ready: int
) -> Obj:
    status: Obj = {
        "observedGeneration": 1,
        "replicas": replicas,
    }
    if ready:
        status["readyReplicas"] = ready
        status["availableReplicas"] = ready
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {**_meta(kind, name, namespace, ts(-3700), labels), "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": []}},
        },
        "status": status,
    }


def deployment(
    name: str,
    *,
    namespace: str = "msp",
    labels: Obj | None = None,
    replicas: int = 1,
    ready: int | None = None,
) -> Obj:
    """A Deployment; `ready` defaults to all replicas."""
    labels = labels or {"app.kubernetes.io/name": name}
    return _workload(
        "Deployment",
        "apps/v1",
        name,
        namespace,
        labels,
        replicas,
        replicas if ready is None else ready,
    )


def statefulset(
    name: str,
    *,
    namespace: str = "msp",
    labels: Obj | None = None,
    replicas: int = 1,
    ready: int | None = None,
) -> Obj:
    """A StatefulSet; `ready` defaults to all replicas."""
    labels = labels or {"app": name}
    return _workload(
        "StatefulSet",
        "apps/v1",
        name,
        namespace,
        labels,
        replicas,
        replicas if ready is None else ready,
    )


def job(
    name: str,
    *,
    namespace: str = "msp",
    state: str = "completed",
    message: str | None = None,
    created: str | None = None,
) -> Obj:
    """A Job: state completed | failed | running | waiting."""
    status: Obj = {}
    if state == "completed":
        status = {
            "completionTime": ts(-1200),
            "conditions": [
                {
                    "lastProbeTime": ts(-1200),
                    "lastTransitionTime": ts(-1200),
                    "message": "Reached expected number of succeeded pods",
                    "reason": "CompletionsReached",
                    "status": "True",
                    "type": "SuccessCriteriaMet",
                },
                {
                    "lastProbeTime": ts(-1200),
                    "lastTransitionTime": ts(-1200),
                    "message": "Reached expected number of succeeded pods",
                    "reason": "CompletionsReached",
                    "status": "True",
                    "type": "Complete",
                },
            ],
            "ready": 0,
            "startTime": ts(-1500),
            "succeeded": 1,
            "terminating": 0,
        }
    elif state == "failed":
        status = {
            "conditions": [
                {
                    "lastProbeTime": ts(-600),
                    "lastTransitionTime": ts(-600),
                    "message": message or "Job has reached the specified backoff limit",
                    "reason": "BackoffLimitExceeded",
                    "status": "True",
                    "type": "Failed",
                },
            ],
            "failed": 4,
            "ready": 0,
            "startTime": ts(-1500),
            "terminating": 0,
        }
    elif state == "running":
        status = {"active": 1, "ready": 1, "startTime": ts(-300), "terminating": 0}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(
            "Job",
            name,
            namespace,
            created or ts(-1600),
            {
                "app.kubernetes.io/name": "alga-core",
                "app.kubernetes.io/instance": f"alga-core-{RELEASE}",
            },
        ),
        "spec": {
            "backoffLimit": 3,
            "completions": 1,
            "parallelism": 1,
            "template": {"spec": {"containers": [], "restartPolicy": "Never"}},
        },
        "status": status,
    }


def pvc(
    name: str, *, namespace: str = "msp", phase: str = "Bound", created: str | None = None
) -> Obj:
    """A PersistentVolumeClaim."""
    status: Obj = {"phase": phase}
    if phase == "Bound":
        status.update({"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "20Gi"}})
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta("PersistentVolumeClaim", name, namespace, created or ts(-3700), None),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "20Gi"}},
            "storageClassName": "local-path",
            "volumeMode": "Filesystem",
        },
        "status": status,
    }


def _flux_condition(ready: bool | None, reason: str | None, message: str | None, when: str) -> Obj:
    if ready is None:
        return {
            "lastTransitionTime": when,
            "message": message or "reconciliation in progress",
            "observedGeneration": 1,
            "reason": reason or "Progressing",
            "status": "Unknown",
            "type": "Ready",
        }
    return {
        "lastTransitionTime": when,
        "message": message
        or (
            "Applied revision: release/1.0-rc5@sha1:284313f908c1e2d4a5b6c7d8e9f0a1b2c3d4e5f6"
            if ready
            else "reconciliation failed"
        ),
        "observedGeneration": 1,
        "reason": reason or ("ReconciliationSucceeded" if ready else "ReconciliationFailed"),
        "status": "True" if ready else "False",
        "type": "Ready",
    }


REVISION = "release/1.0-rc5@sha1:284313f908c1e2d4a5b6c7d8e9f0a1b2c3d4e5f6"


def git_repository(
    *,
    ready: bool | None = True,
    reason: str | None = None,
    message: str | None = None,
    name: str = "alga-psa",
) -> Obj:
    """The appliance's Flux GitRepository."""
    status: Obj = {
        "conditions": [
            _flux_condition(
                ready,
                reason or ("Succeeded" if ready else "GitOperationFailed"),
                message or (f"stored artifact for revision '{REVISION}'" if ready else None),
                ts(-3000),
            )
        ],
        "observedGeneration": 1,
    }
    if ready:
        status["artifact"] = {
            "digest": "sha256:" + "ab" * 32,
            "lastUpdateTime": ts(-3000),
            "path": "gitrepository/flux-system/alga-psa/284313f9.tar.gz",
            "revision": REVISION,
            "size": 7340032,
            "url": "http://source-controller.flux-system.svc.cluster.local./gitrepository/flux-system/alga-psa/284313f9.tar.gz",
        }
    return {
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": {
            **_meta("GitRepository", name, "flux-system", ts(-3600), None),
            "generation": 1,
        },
        "spec": {
            "interval": "1m0s",
            "ref": {"branch": "release/1.0-rc5"},
            "timeout": "60s",
            "url": "https://github.com/nine-minds/alga-psa",
        },
        "status": status,
    }


def kustomization(
    name: str, *, ready: bool | None = True, reason: str | None = None, message: str | None = None
) -> Obj:
    """A Flux Kustomization of the split install (alga-platform / alga-core / alga-background)."""
    depends = {"alga-core": "alga-platform", "alga-background": "alga-core"}.get(name)
    spec: Obj = {
        "interval": "10m0s",
        "path": f"./ee/appliance/flux/base/{name.removeprefix('alga-')}",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "alga-psa"},
        "timeout": "45m0s",
        "wait": True,
    }
    if depends:
        spec["dependsOn"] = [{"name": depends}]
    status: Obj = {
        "conditions": [_flux_condition(ready, reason, message, ts(-2000))],
        "observedGeneration": 1,
    }
    if ready:
        status["lastAppliedRevision"] = REVISION
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {
            **_meta("Kustomization", name, "flux-system", ts(-3600), None),
            "generation": 1,
        },
        "spec": spec,
        "status": status,
    }


def helm_release(
    name: str,
    *,
    namespace: str = "alga-system",
    ready: bool | None = True,
    reason: str | None = None,
    message: str | None = None,
) -> Obj:
    """A Flux HelmRelease."""
    return {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {**_meta("HelmRelease", name, namespace, ts(-3600), None), "generation": 1},
        "spec": {
            "chart": {
                "spec": {
                    "chart": f"./ee/helm/{name}",
                    "sourceRef": {
                        "kind": "GitRepository",
                        "name": "alga-psa",
                        "namespace": "flux-system",
                    },
                }
            },
            "interval": "5m",
            "releaseName": name,
            "targetNamespace": "msp",
            "timeout": "45m",
        },
        "status": {
            "conditions": [
                _flux_condition(
                    ready,
                    reason or ("InstallSucceeded" if ready else "InstallFailed"),
                    message
                    or (
                        f"Helm install succeeded for release msp/{name}.v1 with chart {name}@0.1.0"
                        if ready
                        else None
                    ),
                    ts(-1800),
                )
            ],
            "observedGeneration": 1,
        },
    }


def event(
    involved_kind: str,
    name: str,
    reason: str,
    message: str,
    *,
    namespace: str | None = "msp",
    type_: str = "Warning",
    first: float = -600,
    last: float | None = None,
    count: int = 1,
    container: str | None = None,
    component: str = "kubelet",
) -> Obj:
    """A core/v1 Event as `kubectl get events -o json` prints it."""
    last_ts = ts(first if last is None else last)
    involved: Obj = {
        "apiVersion": {
            "Pod": "v1",
            "Node": "v1",
            "PersistentVolumeClaim": "v1",
            "Job": "batch/v1",
            "HelmRelease": "helm.toolkit.fluxcd.io/v2",
            "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
            "GitRepository": "source.toolkit.fluxcd.io/v1",
        }.get(involved_kind, "v1"),
        "kind": involved_kind,
        "name": name,
        "resourceVersion": _rv(involved_kind, name),
        "uid": _uid(involved_kind, namespace or "", name),
    }
    if namespace:
        involved["namespace"] = namespace
    if container:
        involved["fieldPath"] = f"spec.containers{{{container}}}"
    # Deterministic names (the shipped examples must regenerate byte for byte).
    seed = f"{reason}|{message}|{first}|{last}|{count}".encode()
    ev_name = f"{name}.{hashlib.sha1(seed, usedforsecurity=False).hexdigest()[:16]}"
    ev_ns = namespace or "default"
    return {
        "apiVersion": "v1",
        "count": count,
        "eventTime": None,
        "firstTimestamp": ts(first),
        "involvedObject": involved,
        "kind": "Event",
        "lastTimestamp": last_ts,
        "message": message,
        "metadata": {
            "creationTimestamp": ts(first),
            "name": ev_name,
            "namespace": ev_ns,
            "resourceVersion": _rv(ev_name),
            "uid": _uid("Event", ev_name),
        },
        "reason": reason,
        "reportingComponent": component,
        "reportingInstance": NODE if component == "kubelet" else "",
        "source": {"component": component, **({"host": NODE} if component == "kubelet" else {})},
        "type": type_,
    }


def labels(component: str) -> Obj:
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": f"{component}-{RELEASE}",
    }


BACKGROUND = ("email-service", "temporal", "temporal-ui", "workflow-worker", "temporal-worker")
BG_IMAGES = {
    "email-service": "ghcr.io/nine-minds/email-service:61e4a00e",
    "temporal": "temporalio/auto-setup:1.24.2",
    "temporal-ui": "temporalio/ui:2.26.2",
    "workflow-worker": "ghcr.io/nine-minds/workflow-worker:61e4a00e",
    "temporal-worker": "ghcr.io/nine-minds/temporal-worker:61e4a00e",
}
POD_SUFFIX = {
    "appliance-status": "5c9f8d7b6-x2kqp",
    "pgbouncer": "7b5d9c8f4-m9zt2",
    "alga-core": "6f7d9c8b4-q2w3e",
    "email-service": "58b7c6d9f5-h7lnv",
    "temporal": "66c8d5f9b7-ab3cd",
    "temporal-ui": "5d8f7c9b6-xk2lp",
    "workflow-worker": "7f9c6d8b5-r8t4w",
    "temporal-worker": "6c4b8d7f9-p5s6d",
}


def pod_name(component: str) -> str:
    """The pod name a component's workload gives its (first) pod."""
    if component in {"db", "redis"}:
        return f"{component}-0"
    if component == "alga-core":
        return f"alga-core-{RELEASE}-{POD_SUFFIX['alga-core']}"
    return f"{component}-{POD_SUFFIX[component]}"


class World:
    """A whole appliance as objects keyed by (kind, namespace, name); tests change pieces."""

    def __init__(self, objects: Iterable[Obj] = ()) -> None:
        self.objects: dict[tuple[str, str | None, str], Obj] = {}
        self.events: list[Obj] = []
        for obj in objects:
            self.put(obj)

    def put(self, obj: Obj) -> Obj:
        if obj["kind"] == "Event":
            self.events.append(obj)
        else:
            meta = obj["metadata"]
            self.objects[(obj["kind"], meta.get("namespace"), meta["name"])] = obj
        return obj

    def remove(self, kind: str, namespace: str | None, name: str) -> None:
        self.objects.pop((kind, namespace, name), None)

    def get(self, kind: str, namespace: str | None, name: str) -> Obj:
        return self.objects[(kind, namespace, name)]

    def all(self) -> list[Obj]:
        return [*self.objects.values(), *self.events]

    def snapshot(self, *, server_time: datetime = NOW, source: str = "live") -> Snapshot:
        return snapshot_from_objects(self.all(), source=source, server_time=server_time)

    # -- common changes ---------------------------------------------------------------

    def break_component(
        self,
        component: str,
        *,
        waiting: tuple[str, str | None],
        terminated: tuple[str, str | None] | None = None,
        image: str | None = None,
    ) -> Obj:
        """Make a component's workload 0/1 and its pod wait with a reason."""
        for key, obj in list(self.objects.items()):
            if key[0] in {"Deployment", "StatefulSet"} and _component(obj) == component:
                obj["status"].pop("readyReplicas", None)
                obj["status"].pop("availableReplicas", None)
        name = pod_name(component)
        old = self.objects.get(("Pod", "msp", name))
        new = pod(
            name,
            labels=labels(component) if component not in {"db", "redis"} else {"app": component},
            image=image
            or (old["spec"]["containers"][0]["image"] if old else "docker.io/library/busybox:1.36"),
            container=old["spec"]["containers"][0]["name"] if old else None,
            ready=False,
            waiting=waiting,
            terminated=terminated,
            restarts=7 if waiting[0] == "CrashLoopBackOff" else 0,
            volumes=old["spec"].get("volumes") if old else None,
        )
        self.put(new)
        return new


def _component(obj: Obj) -> str:
    from appliance.components import component_of

    return component_of(obj) or ""


def healthy_world() -> World:
    """A fully healthy appliance (rc5 on Talos, split Flux install)."""
    w = World()
    w.put(node())
    w.put(git_repository())
    for name in ("alga-platform", "alga-core", "alga-background"):
        w.put(kustomization(name))
    w.put(helm_release("alga-core"))
    w.put(helm_release("temporal"))
    w.put(deployment("appliance-status", namespace="appliance-system"))
    w.put(
        pod(
            pod_name("appliance-status"),
            namespace="appliance-system",
            labels=labels("appliance-status"),
            image="ghcr.io/nine-minds/appliance-status:0.1.0",
        )
    )
    db_volumes = [
        {
            "name": "db-data",
            "persistentVolumeClaim": {"claimName": f"alga-core-{RELEASE}-postgres-data"},
        }
    ]
    w.put(statefulset("db", labels={"app": "db"}))
    w.put(
        pod(
            "db-0",
            labels={"app": "db", "statefulset.kubernetes.io/pod-name": "db-0"},
            image="docker.io/library/postgres:16.4",
            container="postgres",
            volumes=db_volumes,
        )
    )
    w.put(pvc(f"alga-core-{RELEASE}-postgres-data"))
    w.put(statefulset("redis", labels={"app": "redis"}))
    w.put(
        pod(
            "redis-0",
            labels={"app": "redis"},
            image="docker.io/library/redis:7.2-alpine",
            container="redis",
        )
    )
    w.put(deployment("pgbouncer", labels={"app": "pgbouncer"}))
    w.put(
        pod(
            pod_name("pgbouncer"),
            labels={"app": "pgbouncer"},
            image="docker.io/bitnami/pgbouncer:1.23.1",
            container="pgbouncer",
        )
    )
    boot = f"alga-core-{RELEASE}-bootstrap-r1"
    w.put(job(boot))
    w.put(
        pod(
            f"{boot}-x7k2p",
            labels={"batch.kubernetes.io/job-name": boot, "job-name": boot},
            image=CORE_IMAGE,
            container="bootstrap",
            ready=False,
            phase="Succeeded",
        )
    )
    w.put(deployment(f"alga-core-{RELEASE}", labels=labels("alga-core")))
    w.put(
        pod(
            pod_name("alga-core"),
            labels=labels("alga-core"),
            image=CORE_IMAGE,
            container="alga-core",
        )
    )
    for comp in BACKGROUND:
        w.put(deployment(comp, labels=labels(comp)))
        w.put(pod(pod_name(comp), labels=labels(comp), image=BG_IMAGES[comp], container=comp))
    # Normal history every real cluster has.
    w.put(
        event(
            "Pod",
            pod_name("alga-core"),
            "Pulled",
            f'Successfully pulled image "{CORE_IMAGE}" in 16m2.31s (16m2.31s including '
            "waiting). Image size: 1843200000 bytes.",
            type_="Normal",
            first=-3100,
            container="alga-core",
        )
    )
    w.put(
        event(
            "Pod",
            pod_name("alga-core"),
            "Started",
            "Started container alga-core",
            type_="Normal",
            first=-3000,
            container="alga-core",
        )
    )
    return w


def probe_ok(url: str = APP_URL) -> LoginProbe:
    """finding-11: the app answers 307 to /msp/dashboard."""
    return LoginProbe(
        url=url,
        attempted=True,
        ok=True,
        status_code=307,
        location="/msp/dashboard",
        elapsed_ms=12.5,
        checked_at=NOW,
    )


def probe_refused(url: str = APP_URL) -> LoginProbe:
    """The app port is closed."""
    return LoginProbe(
        url=url,
        attempted=True,
        ok=False,
        elapsed_ms=1.2,
        error="ConnectError: [Errno 111] Connection refused",
        checked_at=NOW,
    )
