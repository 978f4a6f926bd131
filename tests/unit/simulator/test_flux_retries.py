"""The world's kustomize-controller after a failed reconcile, as v1.9.6's: it requeues the
Kustomization `retryInterval` later (RequeueAfter) and then reconciles it in full (Ready
Unknown, the apply again, a health check with a fresh timeout); until then it looks at nothing
the Kustomization applied, so a failed health check stays failed when what it waited on
recovers, and an apply the API refused stays refused when what it lacked arrives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.world.engine import World
from tests.fixtures.appliance import Appliance
from tests.fixtures.flux_worlds import flux_crds, flux_objects, flux_repo, git, started_world
from tests.fixtures.manifests import widget_crd
from tests.fixtures.probes import probe_refused

Obj = dict[str, Any]


def _world(
    tmp_path: Path, core_spec: str, files: dict[str, str] | None = None, registry: str = ""
) -> World:
    """The two Kustomizations (an hour's interval each), alga-core's timeout and retry as in
    `core_spec`, its path holding redis and `files` besides; `registry`: the scenario's."""
    repo = flux_repo(tmp_path)
    (repo / "nothing-here").mkdir()
    (repo / "nothing-here" / "ns.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: msp}\n"
    )
    core = repo / "deploy" / "core"
    for name, text in (files or {}).items():
        (core / name).write_text(text)
    listed = "".join(f"  - {name}\n" for name in ["app.yaml", *(files or {})])
    (core / "kustomization.yaml").write_text(f"resources:\n{listed}namespace: msp\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.email=t@e", "-c", "user.name=t", "commit", "-qm", "core")
    text = flux_objects(repo, flux_crds(), intervals={"alga-platform": "1h", "alga-core": "1h"})
    return started_world(registry + text.replace("timeout: 10m", core_spec))


def _slow_redis_world(tmp_path: Path) -> World:
    """redis takes a minute to pull; alga-core's health check times out after 30 s, and is
    retried a minute after it failed."""
    slow = "registry:\n  images:\n    redis:7: {pull_seconds: 60}\n"
    return _world(tmp_path, "timeout: 30s\n      retryInterval: 1m", registry=slow)


def _ready_by_second(world: World, end: int) -> list[tuple[int, tuple[str, str, str], bool]]:
    """alga-core's Ready (status, reason, message) at each virtual second until `end`, and
    whether redis was ready then."""
    seen = []
    for second in range(end):
        world.run_until(second)
        core = world.get("Kustomization", "alga-core", "flux-system")
        assert core is not None
        ready = next(
            (c for c in core.get("status", {}).get("conditions", []) if c["type"] == "Ready"),
            {"status": "", "reason": "", "message": ""},
        )
        redis = world.ready("Deployment", "redis", "msp")
        seen.append((second, (ready["status"], ready["reason"], ready["message"]), redis))
    return seen


def test_a_failed_health_check_stays_failed_until_its_retry(tmp_path: Path) -> None:
    """redis takes a minute to pull, so the first health check fails at its 30 s timeout;
    redis is ready soon after, and the Kustomization says so only at its retry, a minute after
    the failure: Ready Unknown while it applies again, then Ready True."""
    world = _slow_redis_world(tmp_path)
    seen = _ready_by_second(world, 200)
    ready_at = {second: ready for second, ready, _ in seen}
    failed = [s for s, (_, reason, _) in ready_at.items() if reason == "HealthCheckFailed"]
    assert failed, seen
    message = ready_at[failed[0]][2]
    assert message == (
        "health check failed after 30s: timeout waiting for: "
        "[Deployment/msp/redis status: 'InProgress']"
    )
    # The retry: a minute after the failure, a full reconcile, then the check passes.
    retry = failed[-1] + 1
    assert retry - failed[0] == 60, (failed[0], retry)
    assert ready_at[retry] == ("Unknown", "Progressing", "Reconciliation in progress")
    assert ready_at[retry + 2][:2] == ("True", "ReconciliationSucceeded")
    # Meanwhile redis had long been ready: the controller does not watch it.
    redis_since = next(second for second, _, redis in seen if redis)
    assert failed[0] < redis_since < retry - 10, (failed[0], redis_since, retry)
    said = [e.message for e in world.timeline.find(reason="HealthCheckFailed", name="alga-core")]
    assert said == [message]


def test_a_spec_changed_during_a_health_check_waits_for_the_check_to_end(tmp_path: Path) -> None:
    """kustomize-controller's worker is busy while a health check runs, and v1.9.6 does not
    cancel it (CancelHealthCheckOnNewRevision is off by default): a new generation is
    reconciled once the check has ended, at once, not at the retry."""
    world = _slow_redis_world(tmp_path)
    for second in range(100):
        world.run_until(second)
        core = world.get("Kustomization", "alga-core", "flux-system")
        assert core is not None
        healthy = [
            c for c in core.get("status", {}).get("conditions", []) if c["type"] == "Healthy"
        ]
        if healthy and healthy[0]["status"] == "Unknown":
            break
    began = world.elapsed
    world.run_until(began + 10)
    world.objects.patch(core, {"spec": {"retryInterval": "2m"}})
    world.run_until(began + 40)
    [failed] = world.timeline.find(reason="HealthCheckFailed", name="alga-core")
    assert failed.message.startswith("health check failed after 30s: ")
    assert failed.at == began + 30, (failed.at, began)  # the check ran on to its timeout
    core = world.get("Kustomization", "alga-core", "flux-system")
    assert core is not None
    ready = next(c for c in core["status"]["conditions"] if c["type"] == "Ready")
    # ...and the new generation's reconcile followed at once: applied again, checking again.
    assert (ready["status"], ready["observedGeneration"]) == ("Unknown", 2)


def test_an_apply_the_api_refused_goes_through_at_a_retry_once_it_can(tmp_path: Path) -> None:
    """A Widget whose CRD is not installed: the dry run fails, in fluxcd/pkg/ssa's words, at
    every retry (each with its event), and redis, in the Widget's stage, is not applied
    either; once the CRD is installed, the next retry applies both, and the health check
    waits for redis to roll out."""
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 1}\n"
    world = _world(tmp_path, "timeout: 3m\n      retryInterval: 1m", {"widget.yaml": widget})
    refused = (
        "False",
        "ReconciliationFailed",
        'Widget/msp/w dry-run failed: no matches for kind "Widget" in version "example.com/v1"\n',
    )
    seen = {second: ready for second, ready, _ in _ready_by_second(world, 160)}
    failed_at = sorted(
        s for s, ready in seen.items() if ready == refused and seen[s - 1] != refused
    )
    assert len(failed_at) == 3, seen
    assert failed_at[1] - failed_at[0] == failed_at[2] - failed_at[1] == 62  # the apply's 2 s
    said = world.timeline.find(reason="ReconciliationFailed", name="alga-core")
    assert [e.message for e in said] == [refused[2]] * 3
    assert world.objects.get("example.com/v1", "Widget", "w", "msp") is None
    assert world.objects.get("apps/v1", "Deployment", "redis", "msp") is None
    world.objects.apply(widget_crd({"size": {"type": "integer"}}))
    world.run_until(failed_at[2] + 62)
    assert world.objects.get("example.com/v1", "Widget", "w", "msp") is not None
    assert world.objects.get("apps/v1", "Deployment", "redis", "msp") is not None
    world.run_until(failed_at[2] + 90)
    core = world.get("Kustomization", "alga-core", "flux-system")
    assert core is not None
    ready = next(c for c in core["status"]["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True", ready


def test_the_status_engine_reads_the_wait_for_the_retry_as_no_failure(tmp_path: Path) -> None:
    """Between redis turning ready and the retry, the world's alga-core is HealthCheckFailed,
    as the real controller leaves it; the status engine calls that a wait for the retry."""
    world = _slow_redis_world(tmp_path)
    for second in range(200):
        world.run_until(second)
        core = world.get("Kustomization", "alga-core", "flux-system")
        assert core is not None
        reasons = {c["type"]: c["reason"] for c in core.get("status", {}).get("conditions", [])}
        if reasons.get("Ready") == "HealthCheckFailed" and world.ready(
            "Deployment", "redis", "msp"
        ):
            break
    else:
        raise AssertionError("alga-core never waited for its retry with redis ready")
    appliance = Appliance(
        obj for api_version, kind in _ENGINE_READS for obj in world.objects.list(api_version, kind)
    )
    appliance.login_probe = probe_refused()
    flux = [b for b in appliance.evaluate().top_blockers if b.layer == "Flux reconciliation"]
    assert [b.retryable for b in flux] == [True], flux
    assert "Everything it waited for is ready now" in flux[0].reason
    assert "at its retry, 1m after the failure" in flux[0].reason


# What the engine reads of the world here.
_ENGINE_READS = [
    ("v1", "Namespace"),
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("source.toolkit.fluxcd.io/v1", "GitRepository"),
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
]
