"""The world engine: a scenario brought to life on the virtual clock.

`World.from_scenario("scenarios/happy-path.yaml")` builds the store, the controllers, the kubelet,
the stages, the Flux model and the scheduler; `start()` loads the initial objects, schedules the
scripted actions and (with `serve=True`) starts the fake API and the neighbours. With the default
frozen clock, `run_until(seconds)` replays as fast as correctness allows (it jumps from one due
callback to the next); with `speed > 0` the clock runs and a scheduler thread follows it, for
worlds real processes talk to.
"""

from __future__ import annotations

import functools
import logging
import re
import tempfile
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from simulator.errors import SimulatorError
from simulator.neighbours.registry import ImageRegistry, RegistryContents
from simulator.world.controllers import Controllers
from simulator.world.flux import FluxModel
from simulator.world.kubelet import Kubelet
from simulator.world.objects import Objects, meta, rfc3339
from simulator.world.scenario import Action, ExecHandler, FaultSpec, Scenario, load_scenario
from simulator.world.scheduling import Scheduler
from simulator.world.stages import (
    StageEngine,
    apply_effect,
    is_ready,
    object_matches,
    object_state_holds,
)
from simulator.world.timeline import Timeline

__all__ = ["World", "WorldError"]

_log = logging.getLogger(__name__)
Obj = dict[str, Any]


class WorldError(SimulatorError):
    """The world cannot do what was asked; the message says why and what to do."""


class World:
    """One simulated appliance: cluster objects, node, registry, app endpoint, time."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        speed: float | None = None,
        skip_actors: Iterable[str] = (),
        base_dir: Path | None = None,
        node_ip: str | None = None,
        store: ObjectStore | None = None,
    ) -> None:
        self.scenario = scenario
        self.speed = scenario.speed if speed is None else speed
        self.skip_actors = set(skip_actors)
        self.base_dir = base_dir or Path.cwd()
        self.clock = VirtualClock(scenario.start, speed=0)
        # An injected store (simulator.replay.remote) lets the engine drive a real cluster.
        self.store = store if store is not None else ObjectStore(self.clock)
        self.scheduler = Scheduler(self.clock)
        self.objects = Objects(self.store, clock=self.clock, seed=scenario.name)
        self.registry = ImageRegistry(scenario.registry or RegistryContents())
        # Unserved worlds never bind; served ones pick a free 127.x address unless given one.
        self.node_ip = node_ip or "127.0.0.1"
        self._node_ip_given = node_ip is not None
        self.node_name = scenario.host.node_name if scenario.host else "appliance-single-node"
        self.timeline = Timeline(self.clock)
        self.stages = StageEngine(
            self.objects,
            scheduler=self.scheduler,
            stages=list(scenario.stages),
            release=self._release,
        )
        self.kubelet = Kubelet(
            self.objects,
            scheduler=self.scheduler,
            registry=self.registry,
            node_name=self.node_name,
            node_ip=self.node_ip,
            hold=self._hold,
        )
        self.controllers = Controllers(self.objects)
        self.flux = FluxModel(self.objects, scheduler=self.scheduler, base_dir=self.base_dir)
        self.app_ready_at: float | None = None
        self.actions_run: list[tuple[float, Action]] = []
        self.api_url: str | None = None
        self.registry_url: str | None = None
        self.kubeconfig_path: Path | None = None
        self._servers: list[Any] = []
        self._app_endpoint: Any = None
        self.api: Any = None
        self._runner: Any = None
        self.talos: Any = None
        self.bin_dir: Path | None = None
        # Pods of our own images wait for their real process to answer /healthz.
        self._process_ready: set[tuple[str, str]] = set()
        self._process_waiting: dict[str, Obj] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._started = False
        self.store.subscribe(self.timeline.record)
        self.store.subscribe(self._on_change)
        self.store.register_exec_handler(self._exec)

    @classmethod
    def from_scenario(
        cls,
        scenario: str | Path | Scenario,
        *,
        speed: float | None = None,
        skip_actors: Iterable[str] = (),
        node_ip: str | None = None,
        store: ObjectStore | None = None,
    ) -> World:
        """A world for a scenario file (or an already loaded model)."""
        if isinstance(scenario, Scenario):
            return cls(scenario, speed=speed, skip_actors=skip_actors, node_ip=node_ip, store=store)
        path = Path(scenario)
        return cls(
            load_scenario(path),
            speed=speed,
            skip_actors=skip_actors,
            base_dir=path.resolve().parent,
            node_ip=node_ip,
            store=store,
        )

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, *, serve: bool = False, kubeconfig_out: Path | None = None) -> World:
        """Load the initial objects, schedule the script; with `serve`, start the servers."""
        if self._started:
            return self
        self._started = True
        host = self.scenario.host
        if host is None or (host.initial_state == "running" and host.kubernetes_up):
            self.node_up()
        for obj in self.scenario.objects:
            self.objects.apply(dict(obj))
        for action in self.scenario.events:
            if action.by is not None and action.by in self.skip_actors:
                continue
            self.scheduler.call_at(
                self.clock.start + timedelta(seconds=action.at),
                functools.partial(self._run_action, action),
                label=f"action {action.action} at {action.at}",
            )
        app = self.scenario.app
        if app.ready_when == "always":
            self._set_app_ready()
        elif app.ready_when == "atTime" and app.ready_at_seconds is not None:
            self.scheduler.call_at(
                self.clock.start + timedelta(seconds=app.ready_at_seconds), self._set_app_ready
            )
        if serve:
            self._serve(kubeconfig_out)
        if self.speed > 0 and serve:
            self.clock.set_speed(self.speed)
            self.scheduler.start()
        return self

    def stop(self) -> None:
        """Stop the scheduler thread and every server this world started."""
        self.scheduler.stop()
        for server in reversed(self._servers):
            try:
                server.stop()
            except Exception:  # stopping is best effort: one failure must not leak the rest
                _log.exception("stopping %r failed", server)
        self._servers.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_until(self, virtual_seconds: float) -> int:
        """Replay (frozen clock) up to `virtual_seconds` from the start; returns callbacks run."""
        if not self._started:
            self.start()
        if self.clock.speed > 0:
            raise WorldError(
                "run_until drives a frozen clock; this world runs in real time at speed "
                f"{self.clock.speed}: wait on it instead"
            )
        return self.scheduler.run_until(self.clock.start + timedelta(seconds=virtual_seconds))

    @property
    def elapsed(self) -> float:
        """Virtual seconds since the scenario start."""
        return self.clock.elapsed()

    # -- queries for tests and the CLI ------------------------------------------------------

    def get(self, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        """An object by kind (core, apps, batch or Flux kinds) and name."""
        return self.objects.get(_api_version(kind), kind, name, namespace)

    def pods(self, namespace: str | None = None, **labels: str) -> list[Obj]:
        """Pods, optionally by namespace and labels (`app.kubernetes.io/name` as `name=`)."""
        wanted = {("app.kubernetes.io/name" if k == "name" else k): v for k, v in labels.items()}
        return self.objects.list("v1", "Pod", namespace, wanted)

    def ready(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Whether the object exists and is ready (per kind)."""
        obj = self.get(kind, name, namespace)
        return obj is not None and is_ready(obj)

    # -- reactions --------------------------------------------------------------------------

    def _release(self, pod: Obj) -> None:
        self.kubelet.resume(pod)

    def _hold(self, pod: Obj) -> bool:
        """The kubelet asks before starting a pod: stages first, then our real processes."""
        if self.stages.hold(pod):
            return True
        owner = self._process_owner(pod)
        if owner is None or owner in self._process_ready:
            return False
        self._process_waiting[str(meta(pod).get("uid"))] = pod
        self.objects.patch_status(pod, {"phase": "Running"})
        return True

    def _process_owner(self, pod: Obj) -> tuple[str, str] | None:
        """(namespace, Deployment) when the pod runs one of the images run as real processes."""
        if self._runner is None:
            return None
        images = [str(c.get("image", "")) for c in (pod.get("spec") or {}).get("containers") or []]
        if not any(i.startswith(p.image_prefix) for i in images for p in self._runner.images):
            return None
        rs_name = next(
            (
                r.get("name")
                for r in meta(pod).get("ownerReferences") or []
                if r.get("kind") == "ReplicaSet"
            ),
            None,
        )
        if rs_name is None:
            return None
        return str(meta(pod).get("namespace")), str(rs_name).rsplit("-", 1)[0]

    def _process_changed(self, process: Any) -> None:
        # Called from the runner's thread: hand over to the scheduler.
        key = (str(process.namespace), str(process.name))
        ready = bool(process.ready)
        self.scheduler.call_soon(lambda: self._process_readiness(key, ready), label="process")

    def _process_readiness(self, key: tuple[str, str], ready: bool) -> None:
        if not ready:
            self._process_ready.discard(key)
            return
        self._process_ready.add(key)
        for uid, pod in list(self._process_waiting.items()):
            if self._process_owner(pod) == key:
                del self._process_waiting[uid]
                self.kubelet.resume(pod)

    def _on_change(self, event_type: str, obj: Obj) -> None:
        # Runs inside the writer's call; defer the reaction to the scheduler.
        self.scheduler.call_soon(lambda: self._react(event_type, obj), label="react")

    def _react(self, event_type: str, obj: Obj) -> None:
        if obj.get("kind") == "Event":
            return
        if not self.scenario.reactive:  # a recorded scenario: replay it verbatim, add nothing
            self._check_app()
            return
        self.controllers.handle(event_type, obj)
        self.kubelet.handle(event_type, obj)
        self.stages.handle(event_type, obj)
        self.flux.handle(event_type, obj)
        self._check_app()

    def node_up(self) -> None:
        """Kubernetes is up on the host: the Node appears and is Ready."""
        if not self.scenario.reactive:  # a recorded scenario brings its own Node objects
            return
        host = self.scenario.host
        now = rfc3339(self.clock.now())
        first = self.objects.get("v1", "Node", self.node_name, None) is None
        node = self.objects.apply(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": self.node_name,
                    "labels": {
                        "kubernetes.io/hostname": self.node_name,
                        "node-role.kubernetes.io/control-plane": "",
                    },
                },
                "spec": {},
            }
        )
        self.objects.patch_status(
            node,
            {
                "addresses": [
                    {"type": "InternalIP", "address": self.node_ip},
                    {"type": "Hostname", "address": self.node_name},
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
                "nodeInfo": {
                    "architecture": "amd64",
                    "operatingSystem": "linux",
                    "kernelVersion": "6.12.6-talos",
                    "kubeletVersion": host.kubernetes_version if host else "v1.31.4",
                    "osImage": f"Talos ({host.talos_version if host else 'v1.12.0'})",
                    "containerRuntimeVersion": "containerd://2.1.5",
                },
            },
        )
        if first:
            self.objects.event(node, "Starting", "Starting kubelet.", source="kubelet")
            self.objects.event(
                node,
                "NodeReady",
                f"Node {self.node_name} status is now: NodeReady",
                source="kubelet",
            )

    def _check_app(self) -> None:
        app = self.scenario.app
        if self.app_ready_at is not None or app.ready_when != "deploymentReady":
            return
        if self.ready("Deployment", app.deployment, app.namespace):
            self._set_app_ready()

    def _set_app_ready(self) -> None:
        if self.app_ready_at is None:
            self.app_ready_at = self.clock.elapsed()
        if self._app_endpoint is not None:
            self._app_endpoint.set_ready(True)

    def _run_action(self, action: Action) -> None:
        self.actions_run.append((self.clock.elapsed(), action))
        if action.action == "apply" and action.object is not None:
            self.objects.apply(dict(action.object))
        elif action.action == "note":
            return
        elif action.action == "nodeUp":
            self.node_up()
        elif action.action == "fault" and action.fault is not None:
            self._inject_fault(action.fault)
        else:
            for target in self._targets(action):
                if action.action == "patch" and action.patch is not None:
                    if action.subresource == "status":
                        self.objects.patch_status(target, action.patch.get("status", action.patch))
                    else:
                        self.objects.patch(target, action.patch)
                elif action.action == "delete":
                    self.objects.delete(target)
                elif action.action == "event" and action.event is not None:
                    from simulator.world.scenario import StageEffect

                    apply_effect(self.objects, target, StageEffect(event=action.event))
                elif action.action == "log" and action.log is not None:
                    from simulator.world.scenario import StageEffect

                    apply_effect(self.objects, target, StageEffect(log=action.log))

    def _targets(self, action: Action) -> list[Obj]:
        ref = action.target
        if ref is None:
            return []
        if ref.name is not None:
            one = self.objects.get(ref.api_version, ref.kind, ref.name, ref.namespace)
            return [one] if one is not None else []
        return self.objects.list(ref.api_version, ref.kind, ref.namespace, ref.labels)

    def _inject_fault(self, spec: FaultSpec) -> None:
        if self.api is None:
            _log.info("fault %s skipped: no API server is running", spec)
            return
        from simulator.api.faults import Fault

        plan = self.api.faults
        if spec.drop_watches:
            plan.drop_watches()
        if spec.status or spec.latency_seconds:
            until = None
            if spec.for_ is not None:
                until = self.clock.now() + timedelta(seconds=spec.for_)
            plan.add(
                Fault(
                    path=spec.path,
                    verbs=frozenset(spec.verbs) if spec.verbs else None,
                    status=spec.status,
                    latency_seconds=spec.latency_seconds,
                    count=spec.count,
                    until=until,
                    message=spec.message,
                    retry_after_seconds=spec.retry_after_seconds,
                )
            )

    def _exec(
        self, namespace: str, pod: str, container: str, command: list[str]
    ) -> tuple[str, str, int] | None:
        line = " ".join(command)
        live = self.objects.get("v1", "Pod", pod, namespace)
        for handler in self.scenario.exec_handlers:
            answer = self._answer(handler, live, line)
            if answer is not None:
                return answer
        return None

    def _answer(
        self, handler: ExecHandler, pod: Obj | None, line: str
    ) -> tuple[str, str, int] | None:
        if not re.search(handler.command, line):
            return None
        if handler.pod is not None and (
            pod is None or not object_matches(self.objects, pod, handler.pod)
        ):
            return None
        if all(object_state_holds(self.objects, state) for state in handler.when):
            return handler.stdout, handler.stderr, handler.exit_code
        if handler.otherwise is not None:
            o = handler.otherwise
            return o.stdout, o.stderr, o.exit_code
        return None

    # -- servers --------------------------------------------------------------------------------

    def _serve(self, kubeconfig_out: Path | None) -> None:
        from simulator.api import ApiServer

        if not self._node_ip_given:
            from simulator.neighbours.addresses import choose_node_address

            self.node_ip = choose_node_address()
            self.kubelet.node_ip = self.node_ip
        self._tmp = tempfile.TemporaryDirectory(prefix="appliance-sim-")
        api = ApiServer(self.store, host="127.0.0.1", port=0)
        self.api_url = api.start()
        self._servers.append(api)
        self.api = api
        self.kubeconfig_path = kubeconfig_out or Path(self._tmp.name) / "kubeconfig"
        api.write_kubeconfig(self.kubeconfig_path)
        from simulator.neighbours.registry import RegistryServer

        registry = RegistryServer(self.registry.contents, clock=self.clock).start()
        self._servers.append(registry)
        self.registry_url = registry.url
        from simulator.neighbours.app_endpoint import AppEndpoint

        self._app_endpoint = AppEndpoint(self.scenario.app, node_ip=self.node_ip, clock=self.clock)
        self._app_endpoint.start()
        self._servers.append(self._app_endpoint)
        if self.app_ready_at is not None:
            self._app_endpoint.set_ready(True)
        self._serve_host(Path(self._tmp.name))
        self._serve_processes(Path(self._tmp.name))

    def _serve_host(self, workdir: Path) -> None:
        """The Talos host model, its endpoint on NODE_IP:50000 and the talosctl/flux shims."""
        from simulator.neighbours.shims import write_shims
        from simulator.neighbours.talos import HostSpec, TalosEndpoint, TalosHost

        spec = self.scenario.host or HostSpec(initial_state="running", kubernetes_up=True)
        api = self.api
        self.talos = TalosHost(
            spec,
            clock=self.clock,
            node_ip=self.node_ip,
            on_kubernetes_up=self._kubernetes_up,
            on_change=self._host_changed,
            kubeconfig=lambda: yaml.safe_dump(api.kubeconfig(), sort_keys=False),
        )
        endpoint = TalosEndpoint(self.talos).start()
        self._servers.append(endpoint)
        self.bin_dir = workdir / "bin"
        write_shims(
            self.bin_dir,
            env={
                "SIM_TALOS_PORT": str(endpoint.port),
                "SIM_TALOS_INSTALLER_IMAGE": spec.installer_image,
            },
        )
        self._tick_host()

    def _kubernetes_up(self) -> None:
        self.scheduler.call_soon(self.node_up, label="node up")

    def _host_changed(self, _host: object) -> None:
        self.scheduler.call_soon(self._tick_host, label="host")

    def _tick_host(self) -> None:
        # The host changes by itself at deadlines (install done, etcd up): wake it then.
        if self.talos is None:
            return
        due = self.talos.next_deadline()
        if due is not None:
            self.scheduler.call_at(due, self.talos.tick, label="host tick")

    def _serve_processes(self, workdir: Path) -> None:
        """Our own images (the status service) run as real processes against the fake API."""
        from simulator.neighbours.processes import ProcessRunner

        api = self.api

        def kubeconfig_for(namespace: str, serviceaccount: str, path: Path) -> Path:
            token = api.issue_token(namespace, serviceaccount)
            return Path(api.write_kubeconfig(path, token=token, user=serviceaccount))

        self._runner = ProcessRunner(
            node_ip=self.node_ip,
            kubeconfig_for=kubeconfig_for,
            workdir=workdir / "pods",
            on_change=self._process_changed,
            node_name=self.node_name,
        )
        self._runner.attach(self.store)
        self._servers.append(self._runner)

    @property
    def app_url(self) -> str:
        """Where the app answers once ready (`http://NODE_IP:3000`)."""
        return f"http://{self.node_ip}:{self.scenario.app.port}"


_KIND_VERSIONS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "GitRepository": "source.toolkit.fluxcd.io/v1",
    "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
    "HelmRelease": "helm.toolkit.fluxcd.io/v2",
}


def _api_version(kind: str) -> str:
    return _KIND_VERSIONS.get(kind, "v1")
