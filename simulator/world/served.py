"""`ServedWorld`: a world whose neighbours are real servers on loopback.

On top of the engine it serves the fake Kubernetes API (with a kubeconfig), the OCI registry,
the app endpoint, the Talos host with `talosctl`/`flux` shims, and runs our own images (the
status service) as real processes against the fake API.

Time runs one of two ways. At a fixed speed (`speed=60`: 60 virtual seconds per wall second),
as a human watching `kubectl` wants. Or warped (`warp=True`): the clock stands still while any
real process works and jumps to the next event when every one of them waits (simulator/warp.py);
the processes we start get a lease on the clock endpoint in `APPLIANCE_TEST_CLOCK`, the
product's test switch, and the fake API keeps the books of what it still owes them.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, Self

import yaml

from simulator.api import ApiServer, Fault
from simulator.api.store import ObjectStore, Store
from simulator.neighbours.addresses import choose_node_address
from simulator.neighbours.app_endpoint import AppEndpoint
from simulator.neighbours.clock_endpoint import ClockEndpoint, Participant, Participants
from simulator.neighbours.processes import PodProcess, ProcessRunner
from simulator.neighbours.registry_server import RegistryServer
from simulator.neighbours.shims import write_shims
from simulator.neighbours.talos import HostSpec, TalosHost
from simulator.neighbours.talos_endpoint import TalosEndpoint
from simulator.warp import Warp
from simulator.world.engine import World
from simulator.world.objects import meta
from simulator.world.scenario import FaultSpec, Scenario

__all__ = ["ServedWorld"]

_log = logging.getLogger(__name__)
Obj = dict[str, Any]


class ServedWorld(World):
    """A world served on loopback: fake API, registry, app, Talos host, our processes."""

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
        warp: bool = False,
    ) -> None:
        # A free 127.x address unless one is given: the Node, the app and the status service
        # all live on it, so it is chosen before the Node object is written.
        super().__init__(
            scenario,
            speed=0.0 if warp else speed,
            skip_actors=skip_actors,
            base_dir=base_dir,
            node_ip=node_ip or choose_node_address(),
            store=store,
            cluster_runs=cluster_runs,
        )
        # The fake API serves the world's own in-memory store; a subclass may serve another
        # (simulator.controlplane: a real control plane behind a RemoteStore).
        self.api: Any = None
        # Extra settings for the talosctl/flux shims (simulator.controlplane: the real Flux CRDs).
        self.shim_env: dict[str, str] = {}
        self.api_url: str | None = None
        self.registry_url: str | None = None
        self.kubeconfig_path: Path | None = None
        self.talos: TalosHost | None = None
        self.bin_dir: Path | None = None
        self._servers: list[Any] = []
        self._app_endpoint: AppEndpoint | None = None
        self._runner: ProcessRunner | None = None
        # Pods of our own images wait for their real process to answer /healthz.
        self._process_ready: set[tuple[str, str]] = set()
        self._process_waiting: dict[str, Obj] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.warp: Warp | None = Warp(self.clock) if warp else None
        self.participants: Participants | None = None

    def start(self, *, kubeconfig_out: Path | None = None) -> Self:
        """Load the scenario, start every server, then let the clock run."""
        if self._started:
            return self
        super().start()
        self._serve(kubeconfig_out)
        if self.warp is not None:
            self.scheduler.start_warped(self.warp)
        elif self.speed > 0:
            self.clock.set_speed(self.speed)
            self.scheduler.start()
        return self

    @property
    def warped(self) -> bool:
        """Whether the clock jumps when every process waits (else it runs at `speed`)."""
        return self.warp is not None

    def participant(self, name: str, *, driver: bool = True) -> Participant | None:
        """A lease for a process about to start against this world (None unless warped).

        A driver wants time to pass (a bootstrapper run, a command a test runs); put its `env`
        in the process's environment and `close()` it when the process has exited.
        """
        if self.participants is None:
            return None
        return self.participants.process(name, driver=driver)

    def let_time_pass(
        self,
        seconds: float,
        *,
        wall_timeout: float = 60.0,
        until: Callable[[], bool] | None = None,
    ) -> float:
        """Let up to `seconds` of virtual time pass; returns the virtual seconds that did.

        Warped, the clock jumps through the events in between, as fast as the processes keep
        up (at most `wall_timeout` wall seconds), and stops early at the first quiescent point
        where `until()` holds (checked after the warp's other observers); at a fixed speed this
        sleeps in wall time.
        """
        before = self.elapsed
        if self.participants is None:
            if self.speed > 0:
                time.sleep(seconds / self.speed)
            return self.elapsed - before
        horizon = self.warp.horizon if self.warp is not None else None
        if horizon is not None:
            seconds = min(seconds, (horizon - self.clock.now()).total_seconds())
            if seconds <= 0:
                return 0.0  # time stops at the horizon
        waiting = self.participants.local("waiting for time to pass", driver=True)
        assert self.warp is not None  # participants exist only in a warped world
        remove = self.warp.add_observer(
            lambda: waiting.close() if until is not None and until() else None
        )
        try:
            waiting.sleep(seconds, wall_timeout=wall_timeout)
        finally:
            remove()
            waiting.close()
        return self.elapsed - before

    def stop(self) -> None:
        """Stop the scheduler thread and every server this world started."""
        super().stop()
        servers = list(reversed(self._servers))
        self._servers.clear()
        # Our processes first: they are clients of every other server. Then the servers all at
        # once: each one waits for its serving loop to notice (the fake API's uvicorn looks every
        # 0.1 s), and one after another that was 0.3 s of every world's teardown.
        for runner in [s for s in servers if isinstance(s, ProcessRunner)]:
            _stop_quietly(runner)
        stopping = [
            threading.Thread(target=_stop_quietly, args=(server,), name=f"stop-{server!r}")
            for server in servers
            if not isinstance(server, ProcessRunner)
        ]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def app_url(self) -> str:
        """Where the app answers once ready (`http://NODE_IP:3000`)."""
        return f"http://{self.node_ip}:{self.scenario.app.port}"

    def inject_fault(self, spec: FaultSpec) -> None:
        """Make the fake API misbehave from now on (see `simulator.api.faults.FaultPlan`)."""
        if getattr(self.api, "faults", None) is None:  # no fake API (or a real one)
            super().inject_fault(spec)
            return
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

    # -- our own processes ----------------------------------------------------------------------

    def _hold(self, pod: Obj) -> bool:
        """Stages first, then our real processes: a pod of ours waits for its process."""
        if super()._hold(pod):
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

    def _process_changed(self, process: PodProcess) -> None:
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

    def _set_app_ready(self) -> None:
        super()._set_app_ready()
        if self._app_endpoint is not None:
            self._app_endpoint.set_ready(True)

    # -- servers --------------------------------------------------------------------------------

    def _serve(self, kubeconfig_out: Path | None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="appliance-sim-")
        workdir = Path(self._tmp.name)
        api = self._start_api()
        self.api_url = api.url
        self.kubeconfig_path = kubeconfig_out or workdir / "kubeconfig"
        api.write_kubeconfig(self.kubeconfig_path)
        registry = RegistryServer(self.registry.contents, clock=self.clock).start()
        self._servers.append(registry)
        self.registry_url = registry.url
        if self.warp is not None:
            endpoint = ClockEndpoint(self.warp).start()
            self._servers.append(endpoint)
            self.participants = Participants(self.warp, endpoint)
        self._app_endpoint = AppEndpoint(self.scenario.app, node_ip=self.node_ip, clock=self.clock)
        self._app_endpoint.start()
        self._servers.append(self._app_endpoint)
        if self.app_ready_at is not None:
            self._app_endpoint.set_ready(True)
        self._serve_host(api, workdir)
        self._serve_processes(api, workdir)

    def _start_api(self) -> Any:
        """The fake API over the world's in-memory store (url, kubeconfig(), issue_token())."""
        assert isinstance(self.store, ObjectStore)
        # `default/kubernetes` points where the appliance's kube-apiserver listens: the node, 6443.
        advertise = (self.node_ip, 6443)
        api = ApiServer(self.store, host="127.0.0.1", port=0, warp=self.warp, advertise=advertise)
        api.start()
        self._servers.append(api)
        self.api = api
        return api

    def _serve_host(self, api: Any, workdir: Path) -> None:
        """The Talos host model, its endpoint on NODE_IP:50000 and the talosctl/flux shims."""
        spec = self.scenario.host or HostSpec(initial_state="running", kubernetes_up=True)
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
                **self.shim_env,
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

    def _serve_processes(self, api: Any, workdir: Path) -> None:
        """Our own images (the status service) run as real processes against the fake API."""

        def kubeconfig_for(namespace: str, serviceaccount: str, path: Path) -> Path:
            token = api.issue_token(namespace, serviceaccount)
            return Path(api.write_kubeconfig(path, token=token, user=serviceaccount))

        self._runner = ProcessRunner(
            node_ip=self.node_ip,
            kubeconfig_for=kubeconfig_for,
            workdir=workdir / "pods",
            on_change=self._process_changed,
            node_name=self.node_name,
            participants=self.participants,
            speed=self.speed,
        )
        self._runner.attach(self.store)
        self._servers.append(self._runner)


def _stop_quietly(server: Any) -> None:
    """Stop one server; stopping is best effort: one failure must not leak the rest."""
    try:
        server.stop()
    except Exception:
        _log.exception("stopping %r failed", server)
