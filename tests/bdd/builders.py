"""Objects as the Kubernetes API returns them, for engine-level scenarios.

`Appliance.healthy()` is the observed appliance once everything settled (node 192.168.64.8, release
1.0-rc5, the msp workloads, Flux tiers, the status service), and each `Given` step bends one part
of it the way the field log saw it break. Messages are kubelet/containerd/Flux wording.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from appliance.canonical import LoginProbe
from appliance.snapshot import Snapshot

__all__ = [
    "APP_NAMESPACE",
    "APP_URL",
    "BACKGROUND_COMPONENTS",
    "CORE_COMPONENTS",
    "NODE_IP",
    "NODE_NAME",
    "NOW",
    "STATUS_URL",
    "Appliance",
    "stamp",
]

Obj = dict[str, Any]

NOW = datetime(2026, 4, 29, 18, 0, 0, tzinfo=UTC)
NODE_NAME = "appliance-single-node"
NODE_IP = "192.168.64.8"
APP_URL = f"http://{NODE_IP}:3000"
STATUS_URL = f"http://{NODE_IP}:8080"
APP_NAMESPACE = "msp"
STATUS_NAMESPACE = "appliance-system"
INSTALLED_AT = NOW - timedelta(hours=1)

CORE_COMPONENTS = ("db", "redis", "pgbouncer")
BACKGROUND_COMPONENTS = (
    "email-service",
    "temporal",
    "temporal-ui",
    "workflow-worker",
    "temporal-worker",
)

# component -> (workload kind, pod name, image); pod names are the ones the field log printed.
WORKLOADS: dict[str, tuple[str, str, str]] = {
    "db": ("StatefulSet", "db-0", "ankane/pgvector:v0.5.1"),
    "redis": ("Deployment", "redis-6b8f9c7d5b-8kq2r", "redis:7.2-alpine"),
    "pgbouncer": ("Deployment", "pgbouncer-5f7d8c9b6a-hn4vx", "bitnami/pgbouncer:1.22.1"),
    "alga-core": (
        "Deployment",
        "alga-core-7c9d8b6f5d-x2x4q",
        "ghcr.io/nine-minds/alga-psa-ee:94446747",
    ),
    "email-service": (
        "Deployment",
        "email-service-6d5f7b8c9d-k7m2p",
        "ghcr.io/nine-minds/email-service:61e4a00e",
    ),
    "temporal": ("Deployment", "temporal-57cbc7b4f6-lzzl5", "temporalio/auto-setup:1.24.2"),
    "temporal-ui": ("Deployment", "temporal-ui-fb9bd65dc-mgknq", "temporalio/ui:2.26.2"),
    "workflow-worker": (
        "Deployment",
        "workflow-worker-7f6f96df87-lqgnj",
        "ghcr.io/nine-minds/workflow-worker:61e4a00e",
    ),
    "temporal-worker": (
        "Deployment",
        "temporal-worker-5b7c9d8f6-q4wzt",
        "ghcr.io/nine-minds/temporal-worker:61e4a00e",
    ),
}
BOOTSTRAP_JOB = "alga-core-sebastian-bootstrap-r1"

_uids = itertools.count(1)


def stamp(moment: datetime) -> str:
    """RFC 3339 as the API server writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(name: str, namespace: str | None, labels: dict[str, str] | None = None) -> Obj:
    meta: Obj = {
        "name": name,
        "uid": f"00000000-0000-4000-8000-{next(_uids):012d}",
        "resourceVersion": str(1000 + next(_uids)),
        "creationTimestamp": stamp(INSTALLED_AT),
        "generation": 1,
    }
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


def _condition(kind: str, status: bool, reason: str = "", message: str = "") -> Obj:
    return {
        "type": kind,
        "status": "True" if status else "False",
        "reason": reason,
        "message": message,
        "lastTransitionTime": stamp(INSTALLED_AT + timedelta(minutes=5)),
    }


def _labels(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": "alga-core"}


def _container_name(component: str) -> str:
    return "postgres" if component == "db" else component


def _pod(name: str, component: str, image: str, *, namespace: str = APP_NAMESPACE) -> Obj:
    container = _container_name(component)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name, namespace, _labels(component)),
        "spec": {
            "nodeName": NODE_NAME,
            "containers": [{"name": container, "image": image}],
        },
        "status": {
            "phase": "Running",
            "hostIP": NODE_IP,
            "podIP": "10.244.0.17",
            "startTime": stamp(INSTALLED_AT),
            "conditions": [
                _condition("PodScheduled", True),
                _condition("Initialized", True),
                _condition("ContainersReady", True),
                _condition("Ready", True),
            ],
            "containerStatuses": [
                {
                    "name": container,
                    "image": image,
                    "imageID": f"{image.split(':', 1)[0]}@sha256:{'ab' * 32}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": stamp(INSTALLED_AT + timedelta(minutes=3))}},
                }
            ],
        },
    }


def _workload(kind: str, name: str, image: str, *, namespace: str = APP_NAMESPACE) -> Obj:
    labels = _labels(name)
    spec: Obj = {
        "replicas": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": _container_name(name), "image": image}]},
        },
    }
    status: Obj = {
        "observedGeneration": 1,
        "replicas": 1,
        "readyReplicas": 1,
        "availableReplicas": 1,
        "updatedReplicas": 1,
    }
    if kind == "StatefulSet":
        spec["serviceName"] = name
        status["currentReplicas"] = 1
    else:
        status["conditions"] = [
            _condition(
                "Available",
                True,
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            ),
            _condition(
                "Progressing",
                True,
                "NewReplicaSetAvailable",
                "ReplicaSet has successfully progressed.",
            ),
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": _meta(name, namespace, labels),
        "spec": spec,
        "status": status,
    }


def _flux(api_version: str, kind: str, name: str, namespace: str, **spec: Any) -> Obj:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": _meta(name, namespace),
        "spec": spec,
        "status": {
            "observedGeneration": 1,
            "conditions": [
                _condition(
                    "Ready",
                    True,
                    "ReconciliationSucceeded",
                    "Applied revision: release/1.0-rc5@sha1:61e4a00e",
                ),
            ],
            "lastAppliedRevision": "release/1.0-rc5@sha1:61e4a00e3b9f1c2d4e5f60718293a4b5c6d7e8f9",
        },
    }


def _job(name: str, *, state: str, message: str = "") -> Obj:
    status: Obj = {"startTime": stamp(NOW - timedelta(minutes=30))}
    if state == "completed":
        status.update(
            succeeded=1,
            completionTime=stamp(NOW - timedelta(minutes=20)),
            conditions=[
                _condition("SuccessCriteriaMet", True),
                _condition("Complete", True),
            ],
        )
    elif state == "failed":
        status.update(
            failed=1,
            conditions=[
                _condition("FailureTarget", True, "BackoffLimitExceeded", message),
                _condition("Failed", True, "BackoffLimitExceeded", message),
            ],
        )
    else:
        status.update(active=1, ready=0)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(
            name,
            APP_NAMESPACE,
            {"app.kubernetes.io/name": "alga-core", "app.kubernetes.io/component": "bootstrap"},
        ),
        "spec": {"backoffLimit": 0, "template": {"spec": {"restartPolicy": "Never"}}},
        "status": status,
    }


@dataclass
class Appliance:
    """A mutable picture of the appliance that Given steps bend, then freeze into a Snapshot."""

    objects: dict[str, list[Obj]] = field(default_factory=dict)
    login_probe: LoginProbe | None = None
    users_count: int | None = 7
    users_count_measurable: bool = True

    @classmethod
    def healthy(cls) -> Appliance:
        """The observed appliance once everything settled and nothing is wrong."""
        node: Obj = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": _meta(NODE_NAME, None, {"kubernetes.io/hostname": NODE_NAME}),
            "spec": {},
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": NODE_IP},
                    {"type": "Hostname", "address": NODE_NAME},
                ],
                "conditions": [
                    _condition("MemoryPressure", False, "KubeletHasSufficientMemory"),
                    _condition("DiskPressure", False, "KubeletHasNoDiskPressure"),
                    _condition("Ready", True, "KubeletReady", "kubelet is posting ready status"),
                ],
                "nodeInfo": {"kubeletVersion": "v1.31.4", "osImage": "Talos (v1.12.0)"},
            },
        }
        source = _flux(
            "source.toolkit.fluxcd.io/v1",
            "GitRepository",
            "alga-psa",
            "flux-system",
            url="https://github.com/nine-minds/alga-psa",
            ref={"branch": "release/1.0-rc5"},
            interval="1m",
        )
        source["status"]["artifact"] = {
            "revision": "release/1.0-rc5@sha1:61e4a00e3b9f1c2d4e5f60718293a4b5c6d7e8f9",
        }
        kustomizations = [
            _flux(
                "kustomize.toolkit.fluxcd.io/v1",
                "Kustomization",
                name,
                "flux-system",
                path=f"./appliance/manifests/{name.removeprefix('alga-')}",
                sourceRef={"kind": "GitRepository", "name": "alga-psa"},
                dependsOn=[{"name": dep}] if dep else [],
            )
            for name, dep in (
                ("alga-platform", None),
                ("alga-core", "alga-platform"),
                ("alga-background", "alga-core"),
            )
        ]
        helm = _flux(
            "helm.toolkit.fluxcd.io/v2",
            "HelmRelease",
            "alga-core",
            "alga-system",
            chart={"spec": {"chart": "alga-core", "version": "0.1.0"}},
        )
        helm["status"]["conditions"][0].update(
            reason="InstallSucceeded",
            message=(
                "Helm install succeeded for release msp/alga-core.v1 with chart alga-core@0.1.0"
            ),
        )
        objects: dict[str, list[Obj]] = {
            "nodes": [node],
            "pods": [],
            "events": [],
            "deployments": [],
            "statefulsets": [],
            "jobs": [_job(BOOTSTRAP_JOB, state="completed")],
            "pvcs": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": _meta("alga-core-sebastian-postgres-data", APP_NAMESPACE),
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": "20Gi"}},
                    },
                    "status": {"phase": "Bound", "capacity": {"storage": "20Gi"}},
                }
            ],
            "git_repositories": [source],
            "kustomizations": kustomizations,
            "helm_releases": [helm],
        }
        for component, (kind, pod_name, image) in WORKLOADS.items():
            key = "statefulsets" if kind == "StatefulSet" else "deployments"
            objects[key].append(_workload(kind, component, image))
            objects["pods"].append(_pod(pod_name, component, image))
        status_image = "ghcr.io/nine-minds/appliance-status:0.1.0"
        objects["deployments"].append(
            _workload("Deployment", "appliance-status", status_image, namespace=STATUS_NAMESPACE)
        )
        objects["pods"].append(
            _pod(
                "appliance-status-6c8d9f7b5c-t2wzp",
                "appliance-status",
                status_image,
                namespace=STATUS_NAMESPACE,
            )
        )
        appliance = cls(objects=objects)
        appliance.app_answers(307, location="/msp/dashboard")
        return appliance

    # --- the login probe and the seed count -------------------------------------------------

    def app_answers(self, code: int, *, location: str | None = None) -> None:
        """The app URL answers an HTTP status (2xx/3xx is what LOGIN_READY wants)."""
        self.login_probe = LoginProbe(
            url=APP_URL,
            attempted=True,
            ok=200 <= code < 400,
            status_code=code,
            location=location,
            elapsed_ms=12.5,
            checked_at=NOW,
        )

    def app_refuses(self) -> None:
        """Nothing listens on the app URL yet."""
        self.login_probe = LoginProbe(
            url=APP_URL,
            attempted=True,
            ok=False,
            error=f"[Errno 111] Connection refused: {APP_URL}",
            checked_at=NOW,
        )

    # --- workloads ------------------------------------------------------------------------

    def pod(self, name: str, *, component: str) -> Obj:
        """The pod of that name, created for the component when the picture has none yet."""
        for pod in self.objects["pods"]:
            if pod["metadata"]["name"] == name:
                return pod
        image = WORKLOADS.get(component, ("Deployment", name, "busybox:1.36"))[2]
        pod = _pod(name, component, image)
        if name.startswith(BOOTSTRAP_JOB.rsplit("-", 1)[0]):
            job = name.rsplit("-", 1)[0]
            pod["metadata"]["labels"].update({"job-name": job, "batch.kubernetes.io/job-name": job})
            pod["metadata"]["ownerReferences"] = [
                {"apiVersion": "batch/v1", "kind": "Job", "name": job, "uid": "job"}
            ]
        self.objects["pods"].append(pod)
        return pod

    def _workload_of(self, component: str) -> Obj | None:
        for key in ("deployments", "statefulsets"):
            for workload in self.objects[key]:
                if workload["metadata"]["name"] == component:
                    return workload
        return None

    def workload_not_ready(self, component: str) -> None:
        """The component's Deployment/StatefulSet has no ready replica."""
        workload = self._workload_of(component)
        if workload is None:
            return
        status = workload["status"]
        status.update(readyReplicas=0, availableReplicas=0)
        if "conditions" in status:
            status["conditions"][0] = _condition(
                "Available",
                False,
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )

    def _pod_not_ready(self, pod: Obj, *, phase: str) -> Obj:
        pod["status"]["phase"] = phase
        for condition in pod["status"]["conditions"]:
            if condition["type"] in {"Ready", "ContainersReady"}:
                condition.update(status="False", reason="ContainersNotReady")
        container: Obj = pod["status"]["containerStatuses"][0]
        container.update(ready=False, started=False)
        return container

    def pod_waiting(self, name: str, *, component: str, reason: str, message: str) -> None:
        """A container of the pod waits with a kubelet reason and message."""
        pod = self.pod(name, component=component)
        phase = "Running" if reason == "CrashLoopBackOff" else "Pending"
        container = self._pod_not_ready(pod, phase=phase)
        container["state"] = {"waiting": {"reason": reason, "message": message}}
        self.workload_not_ready(component)

    def pod_crash_looping(self, name: str, *, component: str, message: str) -> None:
        """The container keeps exiting with `message` as its last termination message."""
        pod = self.pod(name, component=component)
        container = self._pod_not_ready(pod, phase="Running")
        container_name = container["name"]
        container["restartCount"] = 7
        container["state"] = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": (
                    f"back-off 5m0s restarting failed container={container_name} "
                    f"pod={name}_{APP_NAMESPACE}(uid)"
                ),
            }
        }
        container["lastState"] = {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "message": message,
                "startedAt": stamp(NOW - timedelta(minutes=2)),
                "finishedAt": stamp(NOW - timedelta(minutes=2)),
            }
        }
        self.event(
            "Warning",
            "BackOff",
            kind="Pod",
            name=name,
            ago=timedelta(minutes=1),
            message=(
                f"Back-off restarting failed container {container_name} "
                f"in pod {name}_{APP_NAMESPACE}(uid)"
            ),
        )
        self.workload_not_ready(component)

    def pod_starting(self, component: str) -> None:
        """The component's pod runs but is not Ready yet (readiness probe pending)."""
        pod_name = WORKLOADS[component][1]
        pod = self.pod(pod_name, component=component)
        container = self._pod_not_ready(pod, phase="Running")
        container["started"] = True
        self.workload_not_ready(component)

    def pod_pulling(self, name: str, *, component: str, image: str, minutes: int) -> None:
        """The kubelet started pulling `image` for the pod `minutes` ago and has not finished."""
        pod = self.pod(name, component=component)
        container = self._pod_not_ready(pod, phase="Pending")
        container["image"] = image
        container.pop("imageID", None)
        container["state"] = {"waiting": {"reason": "ContainerCreating"}}
        pod["spec"]["containers"][0]["image"] = image
        pod["status"]["startTime"] = stamp(NOW - timedelta(minutes=minutes, seconds=5))
        self.event(
            "Normal",
            "Scheduled",
            kind="Pod",
            name=name,
            ago=timedelta(minutes=minutes, seconds=5),
            message=f"Successfully assigned {APP_NAMESPACE}/{name} to {NODE_NAME}",
            source="default-scheduler",
        )
        self.event(
            "Normal",
            "Pulling",
            kind="Pod",
            name=name,
            ago=timedelta(minutes=minutes),
            message=f'Pulling image "{image}"',
        )
        self.workload_not_ready(component)

    def status_service_absent(self) -> None:
        """appliance-system is empty, as observed on the installed node."""
        for key in ("deployments", "pods"):
            self.objects[key] = [
                obj
                for obj in self.objects[key]
                if obj["metadata"].get("namespace") != STATUS_NAMESPACE
            ]

    # --- jobs, Flux, events ---------------------------------------------------------------

    def bootstrap_job(self, name: str, *, state: str, message: str = "") -> None:
        """The newest bootstrap Job; an older revision's Job stays listed."""
        self.objects["jobs"] = [j for j in self.objects["jobs"] if j["metadata"]["name"] != name]
        if name != BOOTSTRAP_JOB:
            # a later revision: the first Job is the one that timed out waiting for Postgres
            self.objects["jobs"] = [
                _job(
                    BOOTSTRAP_JOB,
                    state="failed",
                    message="Job has reached the specified backoff limit",
                )
            ]
        else:
            self.objects["jobs"] = []
        job = _job(name, state=state, message=message)
        job["metadata"]["creationTimestamp"] = stamp(NOW - timedelta(minutes=30))
        self.objects["jobs"].append(job)

    def flux_not_ready(self, kind: str, name: str, *, reason: str, message: str) -> None:
        """A Flux object's Ready condition turns False with the controller's reason and message."""
        key = {
            "Kustomization": "kustomizations",
            "HelmRelease": "helm_releases",
            "GitRepository": "git_repositories",
        }[kind]
        for obj in self.objects[key]:
            if obj["metadata"]["name"] == name:
                obj["status"]["conditions"] = [_condition("Ready", False, reason, message)]
                return
        raise LookupError(f"no {kind} {name!r} in the healthy appliance")

    def event(
        self,
        kind_of_event: str,
        reason: str,
        *,
        kind: str,
        name: str,
        ago: timedelta,
        message: str,
        source: str = "kubelet",
    ) -> None:
        """A core/v1 Event as the kubelet (or another component) records it."""
        namespace = None if kind == "Node" else APP_NAMESPACE
        when = stamp(NOW - ago)
        self.objects["events"].append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": _meta(f"{name}.{next(_uids):016x}", namespace or "default"),
                "involvedObject": {
                    "apiVersion": "v1",
                    "kind": kind,
                    "name": name,
                    **({"namespace": namespace} if namespace else {}),
                },
                "reason": reason,
                "message": message,
                "type": kind_of_event,
                "count": 1,
                "firstTimestamp": when,
                "lastTimestamp": when,
                "source": {"component": source, "host": NODE_NAME},
                "reportingComponent": source,
                "reportingInstance": NODE_NAME,
            }
        )

    def snapshot(self) -> Snapshot:
        """The picture, frozen the way the cluster reader hands it to the engine."""
        frozen = {key: tuple(value) for key, value in copy.deepcopy(self.objects).items()}
        return Snapshot(
            server_time=NOW,
            source="live",
            nodes=frozen["nodes"],
            pods=frozen["pods"],
            events=frozen["events"],
            deployments=frozen["deployments"],
            statefulsets=frozen["statefulsets"],
            jobs=frozen["jobs"],
            pvcs=frozen["pvcs"],
            git_repositories=frozen["git_repositories"],
            kustomizations=frozen["kustomizations"],
            helm_releases=frozen["helm_releases"],
        )
