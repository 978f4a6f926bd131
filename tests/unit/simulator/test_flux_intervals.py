"""The world's kustomize-controller reconciles a Ready Kustomization again every `interval`, as
v1.9.6 does (RequeueAfter): Ready Unknown from its first stage until the apply and the health
check end it, and nothing it applied looked at between two. A dependent whose reconcile meets
its dependency's is held, Ready False DependencyNotReady, until its retry 30 s later. The
status engine counts every such version as routine (tests/integration/test_control_plane_
bootstrap.py holds the engine to the real controller; this holds the world to the same)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.flux_views import flux_view, with_dependency_holds
from simulator.world.engine import World
from tests.fixtures.flux_worlds import git, ready_world

Obj = dict[str, Any]
NAMES = ("alga-platform", "alga-core")


def _kustomizations(world: World) -> dict[str, Obj]:
    found = {name: world.get("Kustomization", name, "flux-system") for name in NAMES}
    return {name: obj for name, obj in found.items() if obj is not None}


def _ready(obj: Obj) -> Obj:
    return next(c for c in obj["status"]["conditions"] if c["type"] == "Ready")


def _second_by_second(world: World, start: int, end: int) -> list[tuple[int, dict[str, Obj]]]:
    """The Kustomizations at each virtual second from `start` to `end`."""
    seen = []
    for second in range(start, end):
        world.run_until(second)
        seen.append((second, _kustomizations(world)))
    return seen


def _routine(state: dict[str, Obj]) -> dict[str, bool]:
    """Per Kustomization: whether the status engine counts it as Ready (or routine)."""
    views = [v for obj in state.values() if (v := flux_view(obj, "Kustomization")) is not None]
    return {v.ref.name: bool(v.ready or v.routine_reconcile) for v in with_dependency_holds(views)}


def test_a_ready_kustomization_is_reconciled_again_every_interval(tmp_path: Path) -> None:
    world = ready_world(tmp_path, intervals={"alga-platform": "1h", "alga-core": "1m"})
    seen = _second_by_second(world, 300, 440)
    unknown = [second for second, state in seen if _ready(state["alga-core"])["status"] != "True"]
    # Two reconciles, an interval (and the 2 s the last took) apart, each for the apply's 2 s.
    assert len(unknown) == 4, unknown
    assert unknown[1] - unknown[0] == 1, unknown
    assert unknown[3] - unknown[2] == 1, unknown
    assert unknown[2] - unknown[0] == 62, unknown
    during = dict(seen)[unknown[0]]["alga-core"]
    conditions = {c["type"]: c for c in during["status"]["conditions"]}
    assert (conditions["Ready"]["reason"], conditions["Ready"]["message"]) == (
        "Progressing",
        "Reconciliation in progress",
    )
    revision = during["status"]["lastAppliedRevision"]
    assert conditions["Reconciling"]["message"] == (
        f"Fetching manifests for revision {revision} with a timeout of 10m0s"
    )
    assert all(all(_routine(state).values()) for _, state in seen)
    finished = world.timeline.find(reason="ReconciliationSucceeded", name="alga-core")
    assert [e.message for e in finished][-2:] == [
        "Reconciliation finished in 2s, next run in 1m0s"
    ] * 2


def test_between_intervals_a_ready_kustomization_does_not_look_at_what_it_applied(
    tmp_path: Path,
) -> None:
    """A pod of redis deleted: its Deployment is not Available for a moment, which the next
    reconcile's health check would wait out; until then the Kustomization stays Ready."""
    world = ready_world(tmp_path, intervals={"alga-platform": "1h", "alga-core": "1h"})
    (pod,) = world.pods("msp")
    world.objects.delete(pod)
    before = _ready(_kustomizations(world)["alga-core"])
    for second, state in _second_by_second(world, 301, 330):
        assert _ready(state["alga-core"]) == before, second


def test_a_dependent_whose_reconcile_meets_its_dependencys_is_held(tmp_path: Path) -> None:
    """Platform reconciles every 10 s, core every 7 s: core's reconcile soon begins while
    platform's runs, and core waits Ready False until its retry; the engine reads it as
    routine, as it does the real controller's."""
    world = ready_world(tmp_path, intervals={"alga-platform": "10s", "alga-core": "7s"})
    seen = _second_by_second(world, 300, 420)
    held = [
        second
        for second, state in seen
        if _ready(state["alga-core"])["reason"] == "DependencyNotReady"
    ]
    assert held, [(s, _ready(state["alga-core"])["reason"]) for s, state in seen]
    first = dict(seen)[held[0]]
    assert _ready(first["alga-platform"])["status"] == "Unknown"
    assert _ready(first["alga-core"])["message"] == (
        "dependency 'flux-system/alga-platform' is not ready"
    )
    assert held[-1] - held[0] >= 29  # until its retry, long after platform is Ready again
    assert all(all(_routine(state).values()) for _, state in seen)


def test_an_apply_says_what_it_changed_and_a_routine_one_puts_back_what_drifted(
    tmp_path: Path,
) -> None:
    """kustomize-controller's event after an apply lists what changed, in its apply order
    (Services before Deployments), with Ready's reason; a routine reconcile with nothing to
    change says nothing, and one after the Deployment was deleted makes it again."""
    world = ready_world(tmp_path, intervals={"alga-platform": "1h", "alga-core": "1m"})
    said = world.timeline.find(reason="Progressing", name="alga-core")
    assert said[0].message == "Service/msp/redis created\nDeployment/msp/redis created"
    # Its first health check: checkHealth says so when it passes (and not again while healthy).
    assert said[1].message.startswith("Health check passed in ")
    assert len(said) == 2
    world.run_until(380)  # a routine reconcile: nothing drifted, health as before
    assert len(world.timeline.find(reason="Progressing", name="alga-core")) == 2
    deployment = world.get("Deployment", "redis", "msp")
    assert deployment is not None
    world.objects.delete(deployment)
    world.run_until(390)
    assert world.get("Deployment", "redis", "msp") is None  # until the next interval
    world.run_until(460)
    assert world.get("Deployment", "redis", "msp") is not None
    said = world.timeline.find(reason="Progressing", name="alga-core")
    assert said[-1].message == "Deployment/msp/redis created"  # healthy before: no more


def test_a_changed_spec_is_reconciled_at_once(tmp_path: Path) -> None:
    """kustomize-controller watches its Kustomizations' generations: a Ready one whose spec
    changes is reconciled then, not at its interval."""
    world = ready_world(tmp_path, intervals={"alga-platform": "1h", "alga-core": "1h"})
    core = world.get("Kustomization", "alga-core", "flux-system")
    assert core is not None
    world.objects.patch(core, {"spec": {"timeout": "11m"}})
    world.run_until(world.elapsed + 1)
    reconciling = _kustomizations(world)["alga-core"]
    assert _ready(reconciling)["reason"] == "Progressing"
    world.run_until(world.elapsed + 10)
    settled = _kustomizations(world)["alga-core"]
    assert _ready(settled)["status"] == "True"
    assert settled["status"]["observedGeneration"] == settled["metadata"]["generation"] == 2


def test_observed_generation_moves_only_when_a_reconcile_ends_ready(tmp_path: Path) -> None:
    """finalizeStatus records the generation (status.observedGeneration) only once Ready is
    True; a changed spec that fails keeps the last one, its conditions carrying the new. A
    path that is not in the artifact fails before the build: ArtifactFailed, in the
    controller's words."""
    world = ready_world(tmp_path, intervals={"alga-platform": "1h", "alga-core": "1h"})
    core = world.get("Kustomization", "alga-core", "flux-system")
    assert core is not None
    world.objects.patch(core, {"spec": {"path": "./missing"}})
    world.run_until(world.elapsed + 10)
    failed = _kustomizations(world)["alga-core"]
    ready = _ready(failed)
    assert (ready["status"], ready["reason"]) == ("False", "ArtifactFailed")
    assert ready["message"].startswith("kustomization path not found: stat ")
    assert ready["message"].endswith("/missing: no such file or directory")
    reconciling = next(c for c in failed["status"]["conditions"] if c["type"] == "Reconciling")
    assert reconciling["message"].startswith("Fetching manifests for revision ")
    assert failed["metadata"]["generation"] == 2
    assert failed["status"]["observedGeneration"] == 1
    assert ready["observedGeneration"] == 2
    world.objects.patch(failed, {"spec": {"path": "./deploy/core"}})
    world.run_until(world.elapsed + 10)
    fixed = _kustomizations(world)["alga-core"]
    assert _ready(fixed)["status"] == "True"
    assert fixed["status"]["observedGeneration"] == fixed["metadata"]["generation"] == 3


def test_a_field_the_manifests_stop_setting_is_taken_away(tmp_path: Path) -> None:
    """kustomize-controller applies server-side as its own field manager: a field it set that
    the next revision does not set is removed (a merge patch would leave it)."""
    world = ready_world(tmp_path, intervals={"alga-platform": "1h", "alga-core": "1h"})
    repo = tmp_path / "repo"
    git(repo, "checkout", "-qb", "with-extra")
    app = repo / "deploy" / "core" / "app.yaml"
    app.write_text(app.read_text().replace("metadata: {name: redis}", EXTRA))
    git(repo, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qam", "extra")

    def follow(branch: str) -> Obj:
        source = world.get("GitRepository", "alga", "flux-system")
        assert source is not None
        world.objects.patch(source, {"spec": {"ref": {"branch": branch}}})
        world.run_until(world.elapsed + 60)  # platform's apply, then core's (its 30 s requeue)
        redis = world.get("Deployment", "redis", "msp")
        assert redis is not None
        return dict(redis["metadata"].get("annotations") or {})

    assert follow("with-extra").get("example.com/extra") == "1"
    assert "example.com/extra" not in follow("release/1.0-rc5")
    managers = {
        e["manager"] for e in world.get("Deployment", "redis", "msp")["metadata"]["managedFields"]
    }
    assert "kustomize-controller" in managers


EXTRA = "metadata: {name: redis, annotations: {example.com/extra: '1'}}"
