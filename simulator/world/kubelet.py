"""The kubelet model: schedule, pull (as the registry says), start, become Ready, or fail.

Texts follow kubelet v1.31 and containerd: `Pulling image "..."`, `Successfully pulled image "..."
in 16m2.1s (16m2.1s including waiting). Image size: 1800000000 bytes.`, `Failed to pull image
"...": rpc error: code = NotFound desc = ...`, `Error: ErrImagePull`, `Back-off pulling image
"..."`, `Error: ImagePullBackOff`. A missing tag retries with kubelet's back-off (10s doubling to
5m); an interrupted pull (finding-15) stays in back-off until the pod is recreated, which is what
the field log's operators saw and did. Pods that a reactive stage holds (see `stages.py`) are
handed to the stage after their pulls instead of starting.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulator.clock import rfc3339
from simulator.neighbours.registry import ImageRegistry, ImageSpec, parse_image_ref
from simulator.neighbours.registry_server import image_id
from simulator.neighbours.talos import HostSpec
from simulator.world.durations import format_go_duration
from simulator.world.objects import Objects, meta, set_condition, terminating
from simulator.world.scheduling import Scheduler

__all__ = ["Kubelet"]

Obj = dict[str, Any]
START_SECONDS = 2.0  # pull done -> containers started
READY_SECONDS = 5.0  # started -> readiness probe passes
RUN_SECONDS = 20.0  # default run time of a run-to-completion (Job) pod
BACKOFF_FIRST, BACKOFF_MAX = 10.0, 300.0

HoldCheck = Callable[[Obj], bool]


class Kubelet:
    """One node's kubelet; `handle` is fed every store change."""

    def __init__(
        self,
        objects: Objects,
        *,
        scheduler: Scheduler,
        registry: ImageRegistry,
        node_name: str,
        node_ip: str,
        hold: HoldCheck,
    ) -> None:
        self.objects = objects
        self.scheduler = scheduler
        self.registry = registry
        self.node_name = node_name
        self.node_ip = node_ip
        self._hold = hold
        self._seen: set[str] = set()
        self._stopping: dict[str, datetime] = {}  # uid -> when its grace period ends
        self.cached_images: set[str] = set()
        self._ip = 10

    def handle(self, event_type: str, obj: Obj) -> None:
        """Start the lifecycle of each new pod; stop, then finish, each deleted one."""
        if obj.get("kind") != "Pod":
            return
        uid = str(meta(obj).get("uid"))
        if event_type == "DELETED":
            if uid in self._seen and uid not in self._stopping:
                self._kill(obj)  # removed without a grace period (forced)
            self._seen.discard(uid)
            self._stopping.pop(uid, None)
            return
        if terminating(obj):
            if uid in self._seen:
                self._stop(obj)
            return
        if uid in self._seen or (obj.get("status") or {}).get("phase") in {"Succeeded", "Failed"}:
            return
        if (obj.get("spec") or {}).get("nodeName") not in (None, self.node_name):
            return
        self._seen.add(uid)
        self.scheduler.call_soon(lambda: self._schedule(obj), label=f"schedule {meta(obj)['name']}")

    # -- termination ----------------------------------------------------------------------------

    def _live(self, pod: Obj) -> Obj | None:
        """The stored pod while its lifecycle goes on (not once it is being deleted)."""
        current = self.objects.fresh(pod)
        return None if current is None or terminating(current) else current

    def _kill(self, pod: Obj) -> None:
        if (pod.get("status") or {}).get("phase") == "Running":
            for container in _containers(pod):
                self.objects.event(pod, "Killing", f"Stopping container {container['name']}")

    def _stop(self, pod: Obj) -> None:
        """Stop a deleted pod's containers; delete it for good when its grace period ends.

        Running containers take the whole period to stop (an app may use all of it); a pod with
        nothing running (still pulling, or failed to) is confirmed at once, as a kubelet does.
        """
        uid = str(meta(pod).get("uid"))
        deadline = datetime.fromisoformat(str(meta(pod)["deletionTimestamp"]))
        known = self._stopping.get(uid)
        if known is not None and known <= deadline:
            return
        if known is None:
            self._kill(pod)
        self._stopping[uid] = deadline

        def finish() -> None:
            current = self.objects.fresh(pod)
            if current is not None and self._stopping.get(uid) == deadline:
                self.objects.delete(current, grace_period=0)

        running = (pod.get("status") or {}).get("phase") == "Running"
        when = deadline if running else self.objects.clock.now()
        self.scheduler.call_at(when, finish, label=f"stop {meta(pod).get('name')}")

    # -- steps ----------------------------------------------------------------------------------

    def _schedule(self, pod: Obj) -> None:
        current = self._live(pod)
        if current is None:
            return
        m = meta(current)
        self.objects.event(
            current,
            "Scheduled",
            f"Successfully assigned {m.get('namespace')}/{m.get('name')} to {self.node_name}",
            source="default-scheduler",
        )
        now = self.objects.clock.now()
        self._ip += 1
        conditions = set_condition([], "PodScheduled", "True", now=now)
        for kind in ("Initialized", "ContainersReady", "Ready"):
            conditions = set_condition(
                conditions, kind, "False", now=now, reason="ContainersNotReady"
            )
        self.objects.patch(current, {"spec": {"nodeName": self.node_name}})
        self.objects.patch_status(
            current,
            {
                "phase": "Pending",
                "hostIP": self.node_ip,
                "podIP": f"10.244.0.{self._ip % 250 + 2}",
                "startTime": rfc3339(now),
                "conditions": conditions,
                "containerStatuses": [
                    _waiting(c, "PodInitializing" if _inits(current) else "ContainerCreating", "")
                    for c in _containers(current)
                ],
                **(
                    {
                        "initContainerStatuses": [
                            _waiting(c, "PodInitializing", "") for c in _inits(current)
                        ]
                    }
                    if _inits(current)
                    else {}
                ),
            },
        )
        self._pull_next(current, 0)

    def _pull_next(self, pod: Obj, index: int, backoff: float = BACKOFF_FIRST) -> None:
        current = self._live(pod)
        if current is None:
            return
        containers = _all_containers(current)
        if index >= len(containers):
            self.scheduler.call_later(START_SECONDS, lambda: self._start(current))
            return
        container = containers[index]
        image = str(container.get("image", ""))
        policy = container.get("imagePullPolicy") or (
            "Always" if parse_image_ref(image).tag == "latest" else "IfNotPresent"
        )
        if image in self.cached_images and policy != "Always":
            self.objects.event(
                current,
                "Pulled",
                f'Container image "{image}" already present on machine',
            )
            self._pull_next(current, index + 1)
            return
        self.objects.event(current, "Pulling", f'Pulling image "{image}"')
        plan = self.registry.begin_pull(image)

        def finish() -> None:
            live = self._live(current)
            if live is None:
                return
            if plan.found and not plan.interrupted:
                self.cached_images.add(image)
                took = format_go_duration(plan.seconds)
                self.objects.event(
                    live,
                    "Pulled",
                    f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
                    f"Image size: {plan.size_bytes} bytes.",
                )
                self._pull_next(live, index + 1)
                return
            self._pull_failed(
                live, index, container, plan.error, backoff, retry=not plan.interrupted
            )

        self.scheduler.call_later(plan.seconds, finish, label=f"pull {image}")

    def _pull_failed(
        self, pod: Obj, index: int, container: Obj, error: str, backoff: float, *, retry: bool
    ) -> None:
        image = str(container.get("image", ""))
        self.objects.event(
            pod, "Failed", f'Failed to pull image "{image}": {error}', type="Warning"
        )
        self.objects.event(pod, "Failed", "Error: ErrImagePull", type="Warning")
        self._set_waiting(pod, container, "ErrImagePull", error)

        def back_off() -> None:
            live = self._live(pod)
            if live is None:
                return
            self.objects.event(live, "BackOff", f'Back-off pulling image "{image}"')
            self.objects.event(live, "Failed", "Error: ImagePullBackOff", type="Warning")
            self._set_waiting(
                live,
                container,
                "ImagePullBackOff",
                f'Back-off pulling image "{image}": ErrImagePull: {error}',
            )
            if retry:
                self.scheduler.call_later(
                    backoff,
                    lambda: self._pull_next(live, index, min(backoff * 2, BACKOFF_MAX)),
                    label=f"retry pull {image}",
                )
            else:
                self.scheduler.call_later(BACKOFF_MAX, back_off, label=f"back-off {image}")

        self.scheduler.call_later(1.0, back_off, label=f"back-off {image}")

    def _start(self, pod: Obj) -> None:
        current = self._live(pod)
        if current is None:
            return
        if self._hold(current):
            return
        self.resume(current)

    def resume(self, pod: Obj) -> None:
        """Start the containers and make the pod Ready (also after a stage released it)."""
        current = self._live(pod)
        if current is None:
            return
        now = self.objects.clock.now()
        for container in _inits(current) + _containers(current):
            self.objects.event(current, "Created", f"Created container {container['name']}")
            self.objects.event(current, "Started", f"Started container {container['name']}")
        extra: Obj = {}
        if _inits(current):
            # Init containers ran to completion before the app containers started.
            extra["initContainerStatuses"] = [
                self._status(current, c, _completed(now), ready=True, started=False)
                for c in _inits(current)
            ]
        statuses = [
            self._status(
                current, c, {"running": {"startedAt": rfc3339(now)}}, ready=False, started=True
            )
            for c in _containers(current)
        ]
        conditions = set_condition(
            (current.get("status") or {}).get("conditions") or [], "Initialized", "True", now=now
        )
        self.objects.patch_status(
            current,
            {"phase": "Running", "containerStatuses": statuses, "conditions": conditions, **extra},
        )
        self.scheduler.call_later(READY_SECONDS, lambda: self._ready(current))

    def _ready(self, pod: Obj) -> None:
        current = self._live(pod)
        if current is None or (current.get("status") or {}).get("phase") != "Running":
            return
        now = self.objects.clock.now()
        statuses = [
            dict(s, ready=True)
            for s in (current.get("status") or {}).get("containerStatuses") or []
        ]
        conditions = (current.get("status") or {}).get("conditions") or []
        for kind in ("ContainersReady", "Ready"):
            conditions = set_condition(conditions, kind, "True", now=now)
        self.objects.patch_status(
            current, {"containerStatuses": statuses, "conditions": conditions}
        )
        if (current.get("spec") or {}).get("restartPolicy") in {"Never", "OnFailure"}:
            seconds = float(
                meta(current)
                .get("annotations", {})
                .get("sim.appliance.dev/run-seconds", RUN_SECONDS)
            )
            self.scheduler.call_later(seconds, lambda: self._complete(current))

    def _complete(self, pod: Obj) -> None:
        current = self._live(pod)
        if current is None or (current.get("status") or {}).get("phase") != "Running":
            return
        now = self.objects.clock.now()
        statuses = [
            self._status(current, c, _completed(now), ready=False, started=False)
            for c in _containers(current)
        ]
        conditions = (current.get("status") or {}).get("conditions") or []
        for kind in ("ContainersReady", "Ready"):
            conditions = set_condition(conditions, kind, "False", now=now, reason="PodCompleted")
        self.objects.patch_status(
            current, {"phase": "Succeeded", "containerStatuses": statuses, "conditions": conditions}
        )

    def _status(self, pod: Obj, container: Obj, state: Obj, *, ready: bool, started: bool) -> Obj:
        """A container status as the kubelet writes it once the image is pulled."""
        image = str(container.get("image", ""))
        spec = self.registry.contents.lookup(image) or ImageSpec()
        uid = f"{meta(pod).get('uid')}/{container.get('name')}"
        return {
            "name": container.get("name"),
            "state": state,
            "lastState": {},
            "ready": ready,
            "restartCount": 0,
            "image": image,
            "imageID": image_id(image, spec),
            "containerID": f"containerd://{hashlib.sha256(uid.encode()).hexdigest()}",
            "started": started,
        }

    def _set_waiting(self, pod: Obj, container: Obj, reason: str, message: str) -> None:
        def state(c: Obj) -> Obj:
            if c["name"] == container.get("name"):
                return _waiting(c, reason, message)
            return _waiting(c, "PodInitializing", "")

        patch: Obj = {"containerStatuses": [state(c) for c in _containers(pod)]}
        if _inits(pod):
            patch["initContainerStatuses"] = [state(c) for c in _inits(pod)]
        self.objects.patch_status(pod, patch)


def _containers(pod: Obj) -> list[Obj]:
    return list((pod.get("spec") or {}).get("containers") or [])


def _inits(pod: Obj) -> list[Obj]:
    return list((pod.get("spec") or {}).get("initContainers") or [])


def _all_containers(pod: Obj) -> list[Obj]:
    spec = pod.get("spec") or {}
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or [])


def _completed(now: datetime) -> Obj:
    at = rfc3339(now)
    return {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": at, "finishedAt": at}}


def _waiting(container: Obj, reason: str, message: str) -> Obj:
    state: Obj = {"reason": reason}
    if message:
        state["message"] = message
    return {
        "name": container.get("name"),
        "image": container.get("image"),
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": 0,
        "state": {"waiting": state},
        "lastState": {},
    }


def node_status(name: str, address: str, host: HostSpec | None, now: str) -> Obj:
    """The status the kubelet posts for its Node: addresses, readiness, capacity, system ids."""
    ids = hashlib.sha256(name.encode()).hexdigest()
    kubelet_version = host.kubernetes_version if host else "v1.31.4"
    resources = {"cpu": "4", "memory": "16318508Ki", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "addresses": [
            {"type": "InternalIP", "address": address},
            {"type": "Hostname", "address": name},
        ],
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
        ],
        "capacity": resources,
        "allocatable": resources,
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "architecture": "amd64",
            "operatingSystem": "linux",
            "kernelVersion": "6.12.6-talos",
            "kubeletVersion": kubelet_version,
            "kubeProxyVersion": kubelet_version,
            "osImage": f"Talos ({host.talos_version if host else 'v1.12.0'})",
            "containerRuntimeVersion": "containerd://2.1.5",
            "machineID": ids[:32],
            "systemUUID": str(uuid.UUID(ids[32:64])),
            "bootID": str(uuid.UUID(ids[:32])),
        },
    }
