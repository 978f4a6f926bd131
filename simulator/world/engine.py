"""The world engine: a scenario brought to life on the virtual clock, with no servers.

`World.from_scenario("scenarios/happy-path.yaml")` builds the store, the controllers, the kubelet,
the stages, the Flux model and the scheduler; `start()` loads the initial objects and schedules
the scripted actions (`simulator.world.actions.ACTIONS`). With the default frozen clock,
`run_until(seconds)` replays as fast as correctness allows (it jumps from one due callback to the
next). `simulator.world.served.ServedWorld` adds the fake API and the neighbours, for worlds real
processes talk to.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, Self

from simulator.api.kind_table import api_version_of
from simulator.api.namespace_publisher import NamespacePublisher
from simulator.api.store import ObjectStore, Store
from simulator.api.store.pod_security import CONFIGS
from simulator.clock import VirtualClock, rfc3339
from simulator.errors import SimulatorError
from simulator.neighbours.registry import ImageRegistry, RegistryContents
from simulator.world.actions import ACTIONS
from simulator.world.controllers import Controllers
from simulator.world.flux import FluxModel
from simulator.world.kubelet import Kubelet, node_status
from simulator.world.objects import Objects
from simulator.world.scenario import Action, ExecHandler, FaultSpec, Scenario, load_scenario
from simulator.world.scheduling import Scheduler
from simulator.world.stages import StageEngine, is_ready, object_matches, object_state_holds
from simulator.world.timeline import Timeline

__all__ = ["World", "WorldError"]

_log = logging.getLogger(__name__)
Obj = dict[str, Any]


class WorldError(SimulatorError):
    """The world cannot do what was asked; the message says why and what to do."""


class World:
    """One simulated appliance: cluster objects, node, registry contents, time."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        speed: float | None = None,
        skip_actors: Iterable[str] = (),
        base_dir: Path | None = None,
        node_ip: str | None = None,
        store: Store | None = None,
        cluster_runs: Iterable[str] = (),
    ) -> None:
        self.scenario = scenario
        # What the cluster behind an injected store does itself, so the world must not:
        # "workloads" (a real kube-controller-manager: Deployments, StatefulSets, Jobs) and
        # "flux" (real Flux controllers). The world then plays only the node and the script.
        self.cluster_runs = frozenset(cluster_runs)
        self.speed = scenario.speed if speed is None else speed
        self.skip_actors = set(skip_actors)
        self.base_dir = base_dir or Path.cwd()
        self.clock = VirtualClock(scenario.start, speed=0)
        # An injected store (simulator.replay.remote) lets the engine drive a real cluster.
        self.store: Store = store if store is not None else ObjectStore(self.clock)
        if scenario.host is not None and isinstance(self.store, ObjectStore):
            self.store.pod_security = CONFIGS[scenario.host.pod_security]
        self.scheduler = Scheduler(self.clock)
        self.objects = Objects(self.store, clock=self.clock, seed=scenario.name)
        self.registry = ImageRegistry(scenario.registry or RegistryContents())
        self.node_ip = node_ip or "127.0.0.1"
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
        self.controllers = Controllers(self.objects, scheduler=self.scheduler)
        self.flux = FluxModel(self.objects, scheduler=self.scheduler, base_dir=self.base_dir)
        self.app_ready_at: float | None = None
        self.actions_run: list[tuple[float, Action]] = []
        self._started = False
        self.store.changes.subscribe(self.timeline.record)
        self.store.changes.subscribe(self._on_change)
        self.store.execs.register(self._exec)

    @classmethod
    def from_scenario(
        cls,
        scenario: str | Path | Scenario,
        *,
        speed: float | None = None,
        skip_actors: Iterable[str] = (),
        node_ip: str | None = None,
        store: Store | None = None,
    ) -> Self:
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

    def start(self) -> Self:
        """Load the initial objects and schedule the script (once)."""
        if self._started:
            return self
        self._started = True
        if isinstance(self.store, ObjectStore) and "workloads" not in self.cluster_runs:
            # kube-controller-manager's `default` ServiceAccount in each namespace, which every
            # pod the controllers create names unless it names its own (admission checks it);
            # a served world's API also publishes it, with the root CA ConfigMap.
            NamespacePublisher(self.store, ca_pem=None).start()
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
                functools.partial(self.run_action, action),
                label=f"action {action.action} at {action.at}",
            )
        app = self.scenario.app
        if app.ready_when == "always":
            self._set_app_ready()
        elif app.ready_when == "atTime" and app.ready_at_seconds is not None:
            self.scheduler.call_at(
                self.clock.start + timedelta(seconds=app.ready_at_seconds), self._set_app_ready
            )
        return self

    def stop(self) -> None:
        """Stop the scheduler thread (a running clock's)."""
        self.scheduler.stop()

    def __enter__(self) -> Self:
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
        """An object by kind (its preferred version: core, apps, batch or Flux) and name."""
        return self.objects.get(api_version_of(kind), kind, name, namespace)

    def pods(self, namespace: str | None = None, **labels: str) -> list[Obj]:
        """Pods, optionally by namespace and labels (`app.kubernetes.io/name` as `name=`)."""
        wanted = {("app.kubernetes.io/name" if k == "name" else k): v for k, v in labels.items()}
        return self.objects.list("v1", "Pod", namespace, wanted)

    def ready(self, kind: str, name: str, namespace: str | None = None) -> bool:
        """Whether the object exists and is ready (per kind)."""
        obj = self.get(kind, name, namespace)
        return obj is not None and is_ready(obj)

    # -- the script ---------------------------------------------------------------------------

    def run_action(self, action: Action) -> None:
        """Carry out one scripted action now (see `simulator.world.actions.ACTIONS`)."""
        self.actions_run.append((self.clock.elapsed(), action))
        ACTIONS[action.action](self, action)

    @property
    def reactive(self) -> bool:
        """Whether the world reacts (a recorded scenario replays verbatim and does not)."""
        return self.scenario.reactive

    def inject_fault(self, spec: FaultSpec) -> None:
        """Make the fake API misbehave; a world without one (unserved, remote) notes and skips."""
        _log.info("fault %s skipped: no API server is running", spec)

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
                "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
            }
        )
        self.objects.patch_status(node, node_status(self.node_name, self.node_ip, host, now))
        if first:
            self.objects.event(node, "Starting", "Starting kubelet.", source="kubelet")
            self.objects.event(
                node,
                "NodeReady",
                f"Node {self.node_name} status is now: NodeReady",
                source="kubelet",
            )

    # -- reactions --------------------------------------------------------------------------

    def _release(self, pod: Obj) -> None:
        self.kubelet.resume(pod)

    def _hold(self, pod: Obj) -> bool:
        """The kubelet asks before starting a pod: a stage may take it over."""
        return self.stages.hold(pod)

    def _on_change(self, event_type: str, obj: Obj) -> None:
        # Runs inside the writer's call; defer the reaction to the scheduler.
        self.scheduler.call_soon(lambda: self._react(event_type, obj), label="react")

    def _react(self, event_type: str, obj: Obj) -> None:
        if obj.get("kind") == "Event":
            return
        if not self.scenario.reactive:  # a recorded scenario: replay it verbatim, add nothing
            self._check_app()
            return
        if "workloads" not in self.cluster_runs:
            self.controllers.handle(event_type, obj)
        self.kubelet.handle(event_type, obj)
        self.stages.handle(event_type, obj)
        if "flux" not in self.cluster_runs:
            self.flux.handle(event_type, obj)
        self._check_app()

    def _check_app(self) -> None:
        app = self.scenario.app
        if self.app_ready_at is not None or app.ready_when != "deploymentReady":
            return
        if self.ready("Deployment", app.deployment, app.namespace):
            self._set_app_ready()

    def _set_app_ready(self) -> None:
        if self.app_ready_at is None:
            self.app_ready_at = self.clock.elapsed()

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
