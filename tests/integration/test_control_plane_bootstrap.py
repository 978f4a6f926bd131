"""The README's main job on the real control plane (`run SCENARIO --bootstrap --backend
control-plane`), and the same job on the fake API giving the same rollup timeline.

The bootstrapper runs its Platform..Background phases against kube-apiserver; the status service
runs as a process with a TokenRequest token; the real source-controller clones this repository
from a git server on loopback and the real kustomize-controller applies our manifests in
`dependsOn` order. happy-path and utm-rc5-observed run once on each backend, at the same speed
and at the same time (about a minute and a half each on the control plane).
"""

from __future__ import annotations

import functools
import itertools
import json
import re
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from appliance.flux_views import flux_view, with_dependency_holds
from simulator.controlplane.binaries import FLUX_PROGRAMS, KUBERNETES_PROGRAMS, find_binaries
from simulator.controlplane.timelines import Backend, BootstrapRun, bootstrap_on, shapes_agree
from simulator.world.served import ServedWorld
from tests.integration import flux_probes as probes
from tests.integration.control_plane_support import KUBECTL, ROOT, kubectl, programs

HAPPY = ROOT / "scenarios" / "happy-path.yaml"
OBSERVED = ROOT / "scenarios" / "utm-rc5-observed.yaml"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def _flux_objects(world: ServedWorld) -> list[dict[str, Any]]:
    """The GitRepository and Kustomizations, once none is in a routine reconcile (or held by
    one): both kustomize-controllers reconcile each Kustomization again every interval (the
    real one every wall minute, the world's every virtual one), and either may be caught in
    one; the comparison is of where they settle."""
    assert world.kubeconfig_path is not None
    for _ in range(50):
        items, settled = probes.flux_objects(world.kubeconfig_path)
        if settled:
            break
        time.sleep(0.1)
    return items


# Short intervals for the Kustomizations watched, so that routine reconciles come every few
# seconds and alga-core's often begins while alga-platform's runs.
_INTERVALS = {"alga-platform": "3s", "alga-core": "2s"}
# A watch ends once what it waits for has happened, or after this.
_WATCH_LIMIT = 60.0
_TARGET = ("kustomizations", "-n", "flux-system")


def _watch(
    world: ServedWorld, act: Callable[[Path], None], done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Every version of the Kustomizations written while `kubectl get -w` watched them: `act`
    (given the kubeconfig) starts what is watched, the watch ends once `done` of a version
    (or after `_WATCH_LIMIT`)."""
    assert world.kubeconfig_path is not None
    kubeconfig = world.kubeconfig_path
    watch = subprocess.Popen(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "get", *_TARGET, "-w", "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    seen: list[dict[str, Any]] = []
    ended = threading.Event()
    reader = threading.Thread(target=_read_versions, args=(watch, seen, done, ended), daemon=True)
    reader.start()
    try:
        act(kubeconfig)
        ended.wait(_WATCH_LIMIT)
    finally:
        watch.kill()
        watch.wait()
        reader.join()
        if watch.stdout is not None:
            watch.stdout.close()
    return seen


def _read_versions(
    watch: subprocess.Popen[str],
    seen: list[dict[str, Any]],
    done: Callable[[dict[str, Any]], bool],
    ended: threading.Event,
) -> None:
    """Decode each object `kubectl get -w -o json` prints (indented; a top-level one ends with a
    line that is a lone brace) until the pipe closes; set `ended` once `done` of one."""
    assert watch.stdout is not None
    lines: list[str] = []
    for line in watch.stdout:
        lines.append(line)
        if line.rstrip("\n") != "}":
            continue
        obj = json.loads("".join(lines))
        lines.clear()
        seen.append(obj)
        if done(obj):
            ended.set()


def _shorten_intervals(kubeconfig: Path) -> None:
    for name, interval in _INTERVALS.items():
        patch = json.dumps({"spec": {"interval": interval}})
        kubectl(
            kubeconfig, "patch", *_TARGET[1:], "kustomization", name, "--type=merge", "-p", patch
        )


class _HeldAndReleased:
    """Whether alga-core, every Kustomization settled, has been held by a dependency and then
    Ready again, in the versions seen so far (the health probe aside).

    A hold needs alga-core's reconcile to begin while alga-platform's runs, and their intervals
    alone made that a matter of luck (a run once went a minute without one). So each time
    alga-platform is seen beginning a reconcile while alga-core is between two, `ask_core` asks
    alga-core for one at once, as `flux reconcile kustomization alga-core` would: the controller
    then finds its dependency Ready Unknown, unless alga-platform's reconcile has already ended
    (a request made while alga-core reconciles waits for that reconcile to end: no use)."""

    def __init__(self, ask_core: Callable[[], None]) -> None:
        self.states, self.held, self.released = _SettledStates(), False, False
        self.ask_core, self.core_idle = ask_core, False

    def see(self, obj: dict[str, Any]) -> bool:
        name = obj["metadata"]["name"]
        if name in probes.NAMES:
            return self.released
        settled = self.states.add(obj) is not None
        reason = probes.ready(obj)["reason"]
        if name == "alga-core":
            self.core_idle = reason != "Progressing"
            if settled:
                self.held = self.held or reason == "DependencyNotReady"
                self.released = self.released or (
                    self.held and probes.ready(obj)["status"] == "True"
                )
        elif name == "alga-platform" and reason == "Progressing" and self.core_idle:
            self.core_idle = False  # asked: busy until seen again
            if not self.held:
                self.ask_core()
        return self.released


def _asking_core(client: kubernetes.client.ApiClient) -> Callable[[], None]:
    """What asks alga-core for a reconcile: a new `requestedAt` each time, by an open client
    (a kubectl process could start after alga-platform's reconcile has ended)."""
    api = kubernetes.client.CustomObjectsApi(client)
    asked = itertools.count(1)

    def ask() -> None:
        request = {"metadata": {"annotations": {probes.REQUESTED_AT: f"hold-{next(asked)}"}}}
        api.patch_namespaced_custom_object(
            "kustomize.toolkit.fluxcd.io",
            "v1",
            "flux-system",
            "kustomizations",
            "alga-core",
            request,
        )

    return ask


def _watched(world: ServedWorld, *, reconciles: bool, probing: bool) -> dict[str, Any]:
    """Every version of the Kustomizations written while watched, taken after `_flux_objects`:
    with `reconciles`, alga-platform's and alga-core's intervals shortened (raising their
    generations) until alga-core has been held and released; with `probing`, the probes
    created (and deleted after) until the health probe's retry has begun and the staged
    probe's apply has been refused twice, and which of the staged objects then exist. One
    watch for all: they overlap."""
    assert world.kubeconfig_path is not None
    with kubernetes.config.new_client_from_config(str(world.kubeconfig_path)) as client:
        return _watched_with(world, client, reconciles=reconciles, probing=probing)


def _watched_with(
    world: ServedWorld, client: kubernetes.client.ApiClient, *, reconciles: bool, probing: bool
) -> dict[str, Any]:
    trackers: list[_HeldAndReleased | probes.Retried | probes.RefusedAgain] = []
    if reconciles:
        trackers.append(_HeldAndReleased(_asking_core(client)))
    if probing:
        trackers += [
            probes.Retried(probes.change_health_probe(client)),
            probes.RefusedAgain(probes.request_reconciles(client)),
        ]

    def act(kubeconfig: Path) -> None:
        if probing:
            probes.create(kubeconfig)
        if reconciles:
            _shorten_intervals(kubeconfig)

    def done(obj: dict[str, Any]) -> bool:
        seen_by = [tracker.see(obj) for tracker in trackers]  # each sees every version
        return all(seen_by)

    seen = _watch(world, act, done)
    staged, source = [], {}
    if probing:
        assert world.kubeconfig_path is not None
        staged = probes.staged_objects(world.kubeconfig_path)
        source = probes.source_handled(world.kubeconfig_path)
        probes.delete(world.kubeconfig_path)
    return {"versions": seen, "staged": staged, "source": source}


class _SettledStates:
    """The Kustomizations as a watch has shown them so far, from the first moment each has
    finished a reconcile of its current spec (Ready True at its generation): the states a
    routine reconcile goes through, the patches' own reconciles behind."""

    def __init__(self) -> None:
        self.latest: dict[str, dict[str, Any]] = {}
        self.settled: dict[str, int] = {}  # name -> the last generation it finished Ready at

    def add(self, obj: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The state after `obj`, or None while some Kustomization has not settled."""
        name, generation = obj["metadata"]["name"], obj["metadata"]["generation"]
        self.latest[name] = obj
        observed = obj.get("status", {}).get("observedGeneration")
        if probes.ready(obj)["status"] == "True" and observed == generation:
            self.settled[name] = generation
        if any(self.settled.get(n) != o["metadata"]["generation"] for n, o in self.latest.items()):
            return None
        return list(self.latest.values())


# The events the Flux controllers say what they did in: a Kustomization's while it reconciles
# (Ready's reason then), a GitRepository's when it stores a new artifact.
_SAYING = {"Kustomization": "Progressing", "GitRepository": "NewArtifact"}


def _flux_events(world: ServedWorld) -> dict[str, list[str]]:
    """Per Flux object (`Kind/name`), what those events said, each once: the change set of
    each apply that changed something, the health check that passed, the artifact stored."""
    assert world.kubeconfig_path is not None
    listed = kubectl(world.kubeconfig_path, "get", "events", "-n", "flux-system", "-o", "json")
    found: dict[str, list[str]] = {}
    for event in json.loads(listed.stdout)["items"]:
        involved = event["involvedObject"]
        if _SAYING.get(involved.get("kind")) == event.get("reason"):
            said = found.setdefault(f"{involved['kind']}/{involved['name']}", [])
            # How long a health check took is the real controller's wall time: not compared.
            message = re.sub(r"passed in \S+$", "passed in <time>", event["message"])
            if message not in said:
                said.append(message)
    return {name: sorted(messages) for name, messages in found.items()}


def _inspect(
    world: ServedWorld, *, reconciles: bool = False, probing: bool = False
) -> dict[str, Any]:
    """What the tests compare, read before the world stops: the Flux objects, the controllers'
    events, and, where asked, the routine reconciles' and each probe's versions."""
    flux, applied = _flux_objects(world), _flux_events(world)
    assert world.kubeconfig_path is not None
    cli = probes.flux_cli(find_binaries()["flux"], world.kubeconfig_path) if probing else []
    watched: dict[str, Any] = {"versions": [], "staged": [], "source": {}}
    if reconciles or probing:
        watched = _watched(world, reconciles=reconciles, probing=probing)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for obj in watched["versions"]:
        by_name.setdefault(obj["metadata"]["name"], []).append(obj)
    return {
        "flux": flux,
        "applied": applied,
        "reconciles": [o for o in watched["versions"] if o["metadata"]["name"] not in probes.NAMES],
        "retries": by_name.get(probes.HEALTH_PROBE, []),
        "refusals": by_name.get(probes.STAGED_PROBE, []),
        "staged": watched["staged"],
        "source": watched["source"],
        "cli": cli,
    }


_RUNS: dict[tuple[Path, Backend], BootstrapRun] = {}


def run(scenario: Path, backend: Backend) -> BootstrapRun:
    """Each scenario runs once per backend in this module (the tests share the runs)."""
    if (scenario, backend) not in _RUNS:
        _run_on_both(scenario)
    return _RUNS[scenario, backend]


def _run_on_both(scenario: Path) -> None:
    """The scenario on the fake API and on a control plane at the same time: both run at the
    same fixed speed, so each takes the wall time of its virtual time whatever the other does,
    and the fake API's run needs little of a core (its processes mostly wait for the clock)."""
    programs((*KUBERNETES_PROGRAMS, *FLUX_PROGRAMS, "flux"))
    happy = scenario == HAPPY
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fake-api-run") as pool:
        fake = pool.submit(
            bootstrap_on,
            scenario,
            "fake-api",
            repository=ROOT,
            inspect=functools.partial(_inspect, probing=happy),
        )
        inspect = functools.partial(_inspect, reconciles=happy, probing=happy)
        real = bootstrap_on(scenario, "control-plane", repository=ROOT, inspect=inspect)
        _RUNS[scenario, "fake-api"] = fake.result()
    _RUNS[scenario, "control-plane"] = real


def test_the_bootstrapper_reaches_login_ready_on_the_real_api() -> None:
    """Every phase from Platform to Background passes against kube-apiserver."""
    real = run(HAPPY, "control-plane")
    text = "\n".join(real.output)
    assert real.code == 0, text[-4000:]
    for phase in range(2, 7):  # Platform .. Background services
        assert f"==> [{phase}/6]" in text
    assert "LOGIN READY" in text
    assert real.lines[-1].state == "fully_healthy"


def test_real_flux_fetches_the_branch_and_reconciles_in_depends_on_order() -> None:
    """source-controller cloned this commit over http; each Kustomization became Ready only
    after the one it depends on."""
    flux = run(HAPPY, "control-plane").inspected["flux"]
    head = _git("rev-parse", "HEAD")
    repository = next(o for o in flux if o["kind"] == "GitRepository")
    assert repository["status"]["artifact"]["revision"].endswith(head)
    ready_at = {}
    for obj in (o for o in flux if o["kind"] == "Kustomization"):
        ready = next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True", ready
        assert obj["status"]["lastAppliedRevision"].endswith(head)
        ready_at[obj["metadata"]["name"]] = ready["lastTransitionTime"]
    assert ready_at["alga-platform"] <= ready_at["alga-core"] <= ready_at["alga-background"]


def _flux_state(flux: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What each Flux object ends with that the two backends must agree on: its conditions
    (type, status, reason, the generation each was observed at) in the order the controllers
    keep them, its finalizers, the fields of its spec (the CRD's defaults among them) and, for
    a Kustomization, its inventory."""
    return {
        f"{o['kind']}/{o['metadata']['name']}": {
            "conditions": [
                (c["type"], c["status"], c["reason"], c.get("observedGeneration"))
                for c in o["status"]["conditions"]
            ],
            "finalizers": o["metadata"].get("finalizers"),
            "spec": {key: type(value).__name__ for key, value in o["spec"].items()},
            "inventory": o["status"].get("inventory"),
        }
        for o in flux
    }


@pytest.mark.parametrize("scenario", [HAPPY, OBSERVED], ids=["happy-path", "utm-rc5-observed"])
def test_flux_objects_end_as_the_real_controllers_leave_them(scenario: Path) -> None:
    """`kubectl get kustomization -o yaml` after the install shows what kustomize-controller
    leaves (Ready, and Healthy for a Kustomization that waits; Reconciling gone; its finalizer;
    the inventory of what it applied, in Flux's order), and a GitRepository what
    source-controller leaves, on the fake API as on the control plane."""
    fake, real = run(scenario, "fake-api"), run(scenario, "control-plane")
    assert _flux_state(fake.inspected["flux"]) == _flux_state(real.inspected["flux"])


@pytest.mark.parametrize("scenario", [HAPPY, OBSERVED], ids=["happy-path", "utm-rc5-observed"])
def test_the_flux_controllers_events_say_what_the_real_ones_say(scenario: Path) -> None:
    """source-controller's event names the commit it stored (its subject); after an apply
    that changed something, kustomize-controller's lists the changes (`Kind/namespace/name
    created`, in its apply order), and one says when the health check passed. The world's
    events say the same, for the objects both backends had got to when the rollup settled:
    the real controller polls a health check every 5 wall seconds, 150 virtual ones at this
    speed, so alga-background may not be applied yet."""
    fake, real = run(scenario, "fake-api"), run(scenario, "control-plane")
    both = set(fake.inspected["applied"]) & set(real.inspected["applied"])
    expected = {"GitRepository/alga-appliance", "Kustomization/alga-platform"}
    assert expected | {"Kustomization/alga-core"} <= both, (fake.inspected, real.inspected)
    said = {
        backend.backend: {name: backend.inspected["applied"][name] for name in sorted(both)}
        for backend in (fake, real)
    }
    assert said["fake-api"] == said["control-plane"], json.dumps(said, indent=1)


@pytest.mark.parametrize("scenario", [HAPPY, OBSERVED], ids=["happy-path", "utm-rc5-observed"])
def test_both_backends_give_the_same_rollup_timeline(scenario: Path) -> None:
    """The states and top blocker layers come in the same order on the fake API and on the real
    control plane, from where the later status service came in: the Postgres claim waits for
    its volume on both, and login is ready before the background tier is even applied on both
    (Flux re-checks a dependency every 30s)."""
    fake, real = run(scenario, "fake-api"), run(scenario, "control-plane")
    rendered = "\n".join(
        f"{run.backend}:\n" + "\n".join(line.render() for line in run.lines) for run in (fake, real)
    )
    # What each blocker said, once each: a layer alone does not tell a transient warning of a
    # loaded control plane from a difference of the worlds.
    said = "\n".join(
        f"{run.backend}: {line.strip()}"
        for run in (fake, real)
        for line in dict.fromkeys(run.output)
        if re.search(r"(blocker|background issue) \[", line)
    )
    assert shapes_agree(fake.shape, real.shape), f"{rendered}\n{said}"
    assert [state for state, _ in fake.shape][-2:] == [state for state, _ in real.shape][-2:]
    assert "ready" in {state for state, _ in fake.shape}, rendered
    assert real.shape[-1][0] in ("fully_healthy", "ready_with_background_issues")


def test_a_routine_reconcile_of_the_real_controller_is_not_an_install() -> None:
    """kustomize-controller reconciles each Kustomization again every interval, Ready Unknown
    until it has re-applied it; a dependent whose reconcile finds its dependency doing that is
    Ready False, DependencyNotReady, until its retry. In every state the real controller went
    through once each Kustomization had finished a reconcile of its new spec, the status engine
    counts each as Ready, and the controller did write both kinds of version."""
    states, routine = _SettledStates(), []
    for obj in run(HAPPY, "control-plane").inspected["reconciles"]:
        state = states.add(obj)
        views = [view for o in state or () if (view := flux_view(o, "Kustomization"))]
        for view in with_dependency_holds(views):
            assert view.ready or view.routine_reconcile, (view.ref.name, view.raw["status"])
            if not view.ready and view.ready_condition is not None:
                routine.append((view.ref.name, view.ready_condition.reason))
    assert {"Progressing", "DependencyNotReady"} <= {reason for _, reason in routine}, routine


def test_a_failed_health_check_is_retried_as_the_real_controller_retries_it() -> None:
    """A Kustomization whose health check waits on a Deployment that does not exist, its spec
    changed while the check runs: the check runs on to its timeout (30 s, the least
    kustomize-controller gives), Ready and Healthy False, HealthCheckFailed; then at once the
    new generation's reconcile, Ready Unknown, Healthy still failed.
    The world's kustomize-controller goes through the same states, in the same words, as the
    real one."""
    fake, real = run(HAPPY, "fake-api"), run(HAPPY, "control-plane")
    said = {
        r.backend: probes.ready_states(r.inspected["retries"], last=probes.retry_began)
        for r in (fake, real)
    }
    rendered = json.dumps(said, indent=1)
    reasons = [(state[1], state[3]) for state in said["control-plane"]]
    # The failure's conditions carry the generation of the object when they were written
    # (Flux's patch helper sets them on the latest version): the new one.
    expected = [("Progressing", "1"), ("HealthCheckFailed", "2"), ("Progressing", "2")]
    assert reasons == expected, rendered
    assert said["control-plane"][1][2] == (
        "health check failed after <time>: timeout waiting for: "
        "[Deployment/msp/absent status: 'NotFound']"
    ), rendered
    assert said["fake-api"] == said["control-plane"], rendered


def test_an_apply_the_api_refuses_is_staged_as_the_real_controller_stages_it() -> None:
    """A Kustomization applying a CRD, a Namespace, a ConfigMap and a Widget the CRD's schema
    refuses: kustomize-controller applies the CRD and the Namespace first, then dry-runs the
    ConfigMap and the Widget, and the Widget's refusal stops both; Ready False,
    ReconciliationFailed, in fluxcd/pkg/ssa's words with what the earlier stage created, and
    again at the retry. The world's controller says the same and leaves the same objects."""
    fake, real = run(HAPPY, "fake-api"), run(HAPPY, "control-plane")
    said = {
        r.backend: probes.ready_states(r.inspected["refusals"], last=probes.refused_again)
        for r in (fake, real)
    }
    left = {r.backend: r.inspected["staged"] for r in (fake, real)}
    rendered = json.dumps({"said": said, "left": left}, indent=1)
    assert [s[1] for s in said["control-plane"]][:2] == ["Progressing", "ReconciliationFailed"]
    assert left["control-plane"] == list(probes.STAGED_OBJECTS[:2]), rendered
    assert said["fake-api"] == said["control-plane"], rendered
    assert left["fake-api"] == left["control-plane"], rendered


def test_a_reconcile_asked_for_is_handled_as_the_real_controllers_handle_it() -> None:
    """`flux reconcile kustomization staged-probe --with-source`'s annotation, while the
    probe waits for a retry an hour away: both controllers reconcile at once and record the
    request once they have ended (the Kustomization refused again, the GitRepository with
    the same commit and no new artifact), which is what the flux CLI waits for. The record
    comes a version after the refusal: Flux's patch helper writes the conditions first."""
    fake, real = run(HAPPY, "fake-api"), run(HAPPY, "control-plane")
    said = {r.backend: probes.requests_handled(r.inspected["refusals"]) for r in (fake, real)}
    source = {r.backend: r.inspected["source"] for r in (fake, real)}
    rendered = json.dumps({"said": said, "source": source}, indent=1)
    failed, progressing = "ReconciliationFailed", "Progressing"
    expected = [
        (progressing, None),
        (failed, None),
        (progressing, None),
        (failed, None),
        (failed, probes.REQUEST),
    ]
    assert said["control-plane"] == expected, rendered
    assert source["control-plane"] == {"handled": probes.REQUEST, "stored": 1}, rendered
    assert said["fake-api"] == said["control-plane"], rendered
    assert source["fake-api"] == source["control-plane"], rendered


def test_the_real_flux_cli_says_the_same_of_both_backends() -> None:
    """The flux CLI an admin runs (v2.9.5, built from the module proxy) against the fake API
    and the world's Flux controllers, and against kube-apiserver and the real controllers:
    `flux get kustomizations`, `flux get sources git`, `flux tree` of two Kustomizations (what
    each applied, from its inventory), and the status engine's next action, `flux reconcile
    kustomization alga-core --with-source`, print the same."""
    fake, real = run(HAPPY, "fake-api"), run(HAPPY, "control-plane")
    said = {r.backend: r.inspected["cli"] for r in (fake, real)}
    rendered = json.dumps(said, indent=1)
    assert [c["code"] for c in said["control-plane"]] == [0] * len(probes.FLUX_COMMANDS), rendered
    head = _git("rev-parse", "HEAD")
    assert said["control-plane"][-1]["stderr"].endswith(f"@sha1:{head}\n"), rendered
    assert said["fake-api"] == said["control-plane"], rendered
