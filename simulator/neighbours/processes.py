"""Our own pods are real processes: a Deployment of a known image runs as a local subprocess.

When the status service Deployment is applied to the fake API, `ProcessRunner` starts the real
`appliance-status` executable bound to the simulated node address, with a kubeconfig carrying the
pod's service-account token (so RBAC applies as in the cluster) and the pod's environment; it
probes `/healthz` for readiness and stops the process when the Deployment goes. The simulator
knows only the executable's name and flags, never the status service's code.
Like a kubelet, only a pod template change restarts a process; a changed token Secret is
rewritten in place into `{token_file}`, so a running process sees a rotation without a restart.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from simulator.neighbours.clock_endpoint import Participants
from simulator.neighbours.pod_process import (
    Live,
    Plan,
    PodProcess,
    ProcessError,
    leave,
    pod_key,
    terminate,
)
from simulator.neighbours.pod_specs import (
    DEFAULT_IMAGES,
    ProcessImage,
    StoreView,
    container_env,
    container_port,
    http_probe,
    image_for,
    secret_values,
    token_ref,
    write_secret_file,
)

__all__ = [
    "DEFAULT_IMAGES",
    "PodProcess",
    "ProcessError",
    "ProcessImage",
    "ProcessRunner",
    "StoreView",
]

Obj = dict[str, Any]


class ProcessRunner:
    """Runs Deployments of known images as local processes on the simulated node address.

    Wire it with `attach(store)`; store callbacks only enqueue, a worker thread does the work, so
    a write to the fake API never waits for a process to start.
    """

    def __init__(
        self,
        *,
        node_ip: str,
        kubeconfig_for: Callable[[str, str, Path], Path],
        images: Sequence[ProcessImage] = DEFAULT_IMAGES,
        workdir: Path | None = None,
        executable_dirs: Sequence[Path] = (Path(sys.executable).parent,),
        on_change: Callable[[PodProcess], None] | None = None,
        node_name: str = "appliance-single-node",
        probe_interval: float = 0.2,
        extra_env: Mapping[str, str] | None = None,
        participants: Participants | None = None,
        speed: float = 1.0,
    ) -> None:
        self.node_ip = node_ip
        self.node_name = node_name
        self.images = tuple(images)
        self.executable_dirs = tuple(executable_dirs)
        self._kubeconfig_for = kubeconfig_for
        self._on_change = on_change
        self._probe_interval = probe_interval
        self.speed = speed if speed > 0 else 1.0
        self._extra_env = dict(extra_env or {})
        # In a warped world every process gets a lease, and queued work holds the clock too.
        self._participants = participants
        self._books = (
            participants.local("process runner", driver=False, held=0) if participants else None
        )
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="sim-pods-")
            workdir = Path(self._tmp.name)
        self.workdir = workdir
        self._store: StoreView | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._queue: queue.Queue[tuple[str, Obj] | threading.Event | None] = queue.Queue()
        self._lock = threading.Lock()
        self._live: dict[tuple[str, str], Live] = {}
        self._pending: dict[tuple[str, str], Obj] = {}
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        # Every process ever started: the worker and the prober can both (re)start a pod, and
        # whatever the interleaving, stop() must leave none running.
        self._launched: list[subprocess.Popen[bytes]] = []
        # Last resort: even if stop() is never reached, the interpreter's exit ends our pods.
        atexit.register(self._kill_all)

    # -- lifecycle -----------------------------------------------------------------------------
    def attach(self, store: StoreView) -> ProcessRunner:
        """Follow `store`: start threads, subscribe, and pick up Deployments already there."""
        self._store = store
        self.start()
        self._unsubscribe = store.changes.subscribe(self.handle)
        for deployment in store.list("apps/v1", "Deployment"):
            self.handle("ADDED", deployment)
        return self

    def start(self) -> ProcessRunner:
        """Start the worker and probe threads (attach() does this)."""
        if self._threads:
            return self
        self._stopping.clear()
        for target, name in ((self._work, "sim-pods-worker"), (self._probe, "sim-pods-probe")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop every process and the threads; unsubscribe from the store."""
        self._stopping.set()
        # Processes first, with no lock and nothing that can raise before it: a signal can
        # interrupt the caller anywhere, and no simulated pod may outlive the simulator.
        self._kill_all()
        atexit.unregister(self._kill_all)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []
        with self._lock:
            keys = list(self._live)
        for key in keys:
            self._stop_key(key)
        self._kill_all()  # anything a thread started while we waited for it
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _kill_all(self) -> None:
        """Terminate every process this runner ever started (also the interpreter's exit hook)."""
        for process in list(self._launched):  # copying a list is atomic under the GIL
            terminate(process)
        self._launched = [p for p in self._launched if p.poll() is None]

    def __enter__(self) -> ProcessRunner:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- queries -------------------------------------------------------------------------------
    def pods(self) -> dict[tuple[str, str], PodProcess]:
        """Snapshots of every Deployment the runner runs, by (namespace, name)."""
        with self._lock:
            return {k: v.snapshot for k, v in self._live.items()}

    def pod(self, namespace: str, name: str) -> PodProcess | None:
        """The snapshot for one Deployment, None when not running."""
        with self._lock:
            live = self._live.get((namespace, name))
            return live.snapshot if live else None

    def wait_for(
        self,
        predicate: Callable[[PodProcess | None], bool],
        *,
        namespace: str,
        name: str,
        timeout: float = 30.0,
    ) -> bool:
        """Block (wall time) until `predicate(pod)` holds; for tests and the CLI."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                live = self._live.get((namespace, name))
                if predicate(live.snapshot if live else None):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(min(remaining, 0.5))

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until every store event handed over so far has been acted on."""
        marker = threading.Event()
        self._queue.put(marker)
        return marker.wait(timeout)

    # -- events --------------------------------------------------------------------------------
    def handle(self, event_type: str, obj: dict[str, Any]) -> None:
        """A store subscriber: enqueue Deployment and Secret changes."""
        if obj.get("kind") in ("Deployment", "Secret"):
            if self._books is not None:
                self._books.hold()  # given back by the worker once acted on
            self._queue.put((event_type, obj))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._stopping.is_set():
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            event_type, obj = item
            try:
                if obj.get("kind") == "Secret":
                    self._refresh_secret_files(obj)
                    self._retry_pending(obj)
                else:
                    self._reconcile(event_type, obj)
            except Exception as exc:  # one bad object must not stop the runner
                print(f"simulator: pod process for {pod_key(obj)}: {exc}", file=sys.stderr)
            finally:
                if self._books is not None:
                    self._books.release()

    def _refresh_secret_files(self, secret: Obj) -> None:
        """Rewrite the token file of every running pod that mounts this Secret (no restart)."""
        namespace, name = pod_key(secret)
        values = secret_values(self._store, namespace, name) or {}
        with self._lock:
            plans = [live.plan for (ns, _), live in self._live.items() if ns == namespace]
        for plan in plans:
            if plan.token_ref[0] == name and plan.token_ref[1] in values and plan.token_file:
                write_secret_file(plan.token_file, values[plan.token_ref[1]])

    def _retry_pending(self, secret: Obj) -> None:
        namespace, _ = pod_key(secret)
        with self._lock:
            waiting = [o for (ns, _), o in self._pending.items() if ns == namespace]
        for deployment in waiting:
            self._reconcile("MODIFIED", deployment)

    def _reconcile(self, event_type: str, deployment: Obj) -> None:
        key = pod_key(deployment)
        found = image_for(self.images, deployment)
        replicas = (deployment.get("spec") or {}).get("replicas", 1)
        deleting = bool((deployment.get("metadata") or {}).get("deletionTimestamp"))
        if event_type == "DELETED" or found is None or replicas == 0 or deleting:
            with self._lock:
                self._pending.pop(key, None)
            self._stop_key(key)
            return
        known, container = found
        pod_spec = deployment["spec"]["template"]["spec"]
        secret_name, secret_key = token_ref(pod_spec, container, known)
        secret = (
            secret_values(self._store, key[0], secret_name)
            if known.token_secret is not None
            else None
        )
        token = secret.get(secret_key) if secret is not None else None
        if known.token_secret is None:
            token = ""
        elif token is None:
            # Like a kubelet: the pod waits (CreateContainerConfigError) until the Secret exists.
            with self._lock:
                self._pending[key] = deployment
            message = (
                f'secret "{secret_name}" not found'
                if secret is None
                else f"couldn't find key {secret_key} in Secret {key[0]}/{secret_name}"
            )
            self._publish_waiting(
                key, str(container.get("image")), "CreateContainerConfigError", message
            )
            return
        fingerprint = json.dumps(pod_spec, sort_keys=True, default=str)
        with self._lock:
            self._pending.pop(key, None)
            live = self._live.get(key)
            if live is not None and live.plan.fingerprint == fingerprint:
                # Status updates of the Deployment change nothing the process sees.
                return
        workdir = self.workdir / f"{key[0]}_{key[1]}"
        workdir.mkdir(parents=True, exist_ok=True)
        token_file = workdir / "token"
        write_secret_file(token_file, token)
        service_account = str(pod_spec.get("serviceAccountName") or "default")
        kubeconfig = self._kubeconfig_for(key[0], service_account, workdir / "kubeconfig")
        port = known.port if known.fixed_port else container_port(container, known.port)
        values = {
            "node_ip": self.node_ip,
            "port": str(port),
            "sa_kubeconfig": str(kubeconfig),
            "token_file": str(token_file),
            "namespace": key[0],
            "name": key[1],
        }
        # A warped world's process sleeps on the cluster's clock; any other on the machine's,
        # which runs `speed` times slower than the world.
        scale = 1.0 if self._participants is not None else self.speed
        argv = tuple(part.format(**values) for part in known.argv) + tuple(
            part for flag, seconds in known.timed_flags for part in (flag, f"{seconds / scale:g}")
        )
        plan = Plan(
            image=str(container.get("image")),
            argv=argv,
            env=container_env(
                self._store, container, pod=key, node_ip=self.node_ip, node_name=self.node_name
            ),
            workdir=workdir,
            port=port,
            health_path=known.health_path,
            fingerprint=fingerprint,
            token_ref=(secret_name, secret_key),
            token_file=token_file,
        )
        self._stop_key(key)
        try:
            self._launch(key, plan)
        except (OSError, ProcessError) as exc:
            self._publish_waiting(key, plan.image, "RunContainerError", str(exc))

    def _executable(self, name: str) -> str:
        for directory in self.executable_dirs:
            candidate = directory / name
            if candidate.exists() and os.access(candidate, os.X_OK):
                return str(candidate)
        found = shutil.which(name)
        if found is None:
            raise ProcessError(
                f"executable {name!r} for a simulated pod was not found in "
                f"{[str(d) for d in self.executable_dirs]} or PATH; install the package that "
                "provides it (pip install -e .)"
            )
        return found

    def _launch(self, key: tuple[str, str], plan: Plan, *, restarts: int = 0) -> None:
        if self._stopping.is_set():
            return  # a thread that outlived stop()'s join must not start anything new
        log_path = plan.workdir / "process.log"
        participant = None
        if self._participants is not None:
            # Two tokens: the process's own, and ours until it first answers /healthz.
            participant = self._participants.process(f"pod {key[0]}/{key[1]}", driver=False, held=2)
        process_env = {
            **os.environ,
            **self._extra_env,
            **plan.env,
            **(participant.env if participant else {}),
        }
        handle = log_path.open("ab")
        try:
            process = subprocess.Popen(
                [self._executable(plan.argv[0]), *plan.argv[1:]],
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=process_env,
                cwd=plan.workdir,
                start_new_session=True,
            )
        except (OSError, ProcessError):
            handle.close()
            if participant is not None:
                participant.close()
            raise
        snapshot = PodProcess(
            namespace=key[0],
            name=key[1],
            image=plan.image,
            argv=plan.argv,
            pid=process.pid,
            ready=False,
            restarts=restarts,
            exit_code=None,
            log_path=log_path,
        )
        self._launched.append(process)
        if self._stopping.is_set():
            terminate(process)  # stop() began while this one was starting
            handle.close()
            return
        with self._lock:
            previous = self._live.get(key)
            self._live[key] = Live(
                snapshot, process, plan, log_handle=handle, participant=participant
            )
        if previous is not None and previous.process is not None:
            # A concurrent restart got here first: one process per pod, never an orphan.
            terminate(previous.process)
            if previous.log_handle is not None:
                previous.log_handle.close()
            leave(previous)
        self._notify(snapshot)

    def _publish_waiting(
        self, key: tuple[str, str], image: str, reason: str, message: str = ""
    ) -> None:
        snapshot = PodProcess(
            key[0], key[1], image, (), None, False, 0, None, self.workdir / "none", reason, message
        )
        self._notify(snapshot)

    def _stop_key(self, key: tuple[str, str]) -> None:
        with self._lock:
            live = self._live.pop(key, None)
        if live is None:
            return
        if live.process is not None:
            terminate(live.process)
        if live.log_handle is not None:
            live.log_handle.close()
        leave(live)
        self._notify(replace(live.snapshot, pid=None, ready=False))

    def _notify(self, snapshot: PodProcess) -> None:
        with self._changed:
            self._changed.notify_all()
        if self._on_change is not None:
            self._on_change(snapshot)

    # -- probing -------------------------------------------------------------------------------
    def _probe(self) -> None:
        while not self._stopping.wait(self._next_probe()):
            with self._lock:
                items = list(self._live.items())
            for key, live in items:
                try:
                    self._probe_one(key, live)
                except (OSError, ProcessError) as exc:
                    # A restart that cannot start leaves the pod waiting, not the prober dead.
                    self._publish_waiting(key, live.plan.image, "RunContainerError", str(exc))

    def _next_probe(self) -> float:
        """A warped world waits for a starting process: look often until it answers."""
        with self._lock:
            starting = any(live.starting and live.participant for live in self._live.values())
        return min(self._probe_interval, 0.02) if starting else self._probe_interval

    def _probe_one(self, key: tuple[str, str], live: Live) -> None:
        process = live.process
        snapshot = live.snapshot
        if process is not None and process.poll() is not None:
            # The container exited: not ready, restarted after a kubelet-like back-off.
            now = time.monotonic()
            if live.restart_at is None:
                live.restart_at = now + min(10.0, 0.5 * 2**snapshot.restarts)
                leave(live)  # the exited process waits for nothing
                self._update(key, replace(snapshot, ready=False, exit_code=process.returncode))
                return
            if now >= live.restart_at:
                if live.log_handle is not None:
                    live.log_handle.close()
                with self._lock:
                    if self._live.get(key) is not live:
                        return
                    del self._live[key]
                self._launch(key, live.plan, restarts=snapshot.restarts + 1)
            return
        ready = http_probe(f"http://{self.node_ip}:{live.plan.port}{live.plan.health_path}")
        if ready != snapshot.ready:
            self._update(key, replace(snapshot, ready=ready))
        if ready and live.starting:
            # Started: the world has been told (above), so the clock may move on.
            live.starting = False
            if live.participant is not None:
                live.participant.release()

    def _update(self, key: tuple[str, str], snapshot: PodProcess) -> None:
        with self._lock:
            live = self._live.get(key)
            if live is None:
                return
            live.snapshot = snapshot
        self._notify(snapshot)
