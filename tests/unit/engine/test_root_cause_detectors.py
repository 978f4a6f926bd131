"""Root-cause detectors of `root_causes.py` (F012-F016, F018, F019; T004-T009, T011, T012)."""

from __future__ import annotations

from appliance.canonical import Blocker, RollupState
from tests.fixtures import (
    CORE_IMAGE,
    MSG_DNS_GIT,
    MSG_DNS_PULL,
    MSG_HELM_TIMEOUT,
    MSG_SERVICE_LINK,
    MSG_SUBPATH,
    MSG_TEMPORAL_SCHEMA,
    Appliance,
    canceled_pull_message,
    event,
    git_repository,
    helm_release,
    job,
    missing_tag_message,
    pod_name,
    probe_refused,
    ts,
)
from tests.unit.engine.conftest import Evaluate

WORKFLOW_IMAGE = "ghcr.io/nine-minds/workflow-worker:61e4a00e"
EMAIL_IMAGE = "ghcr.io/nine-minds/email-service:61e4a00e"


def _layers(blockers: list[Blocker]) -> list[str]:
    return [b.layer for b in blockers]


def test_T004_dns_lookup_failure_names_dns_servers(world: Appliance, status_of: Evaluate) -> None:
    """T004/F012: `lookup ghcr.io on 192.168.64.1:53: connection refused` -> DNS blocker."""
    world.break_component("alga-core", waiting=("ErrImagePull", MSG_DNS_PULL), image=CORE_IMAGE)
    world.put(event("Pod", pod_name("alga-core"), "Failed", MSG_DNS_PULL, container="alga-core"))
    status = status_of(world, probe=probe_refused())
    top = status.top_blockers[0]
    assert top.layer == "Platform DNS resolution"
    assert "--dns-servers 1.1.1.1,8.8.8.8" in top.next_action
    assert "192.168.64.1:53" in top.reason
    assert top.login_blocking
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED
    # The pull failure is DNS, not a missing tag or an interruption.
    assert "Image tag availability" not in _layers(status.top_blockers)
    assert "Image pull interruption" not in _layers(status.top_blockers)


def test_T004_dns_failure_in_flux_source_condition(world: Appliance, status_of: Evaluate) -> None:
    """A GitRepository condition `lookup github.com on ...: server misbehaving` is DNS too."""
    world.put(git_repository(ready=False, message=MSG_DNS_GIT))
    status = status_of(world)
    assert status.top_blockers[0].layer == "Platform DNS resolution"
    assert status.top_blockers[0].evidence[0].object == "GitRepository/flux-system/alga-psa"


def test_dns_patterns_cover_all_resolver_failures(world: Appliance, status_of: Evaluate) -> None:
    """no such host, server misbehaving and i/o timeout all classify as DNS."""
    for failure in ("no such host", "server misbehaving", "i/o timeout"):
        w = Appliance(world.all())
        msg = MSG_DNS_PULL.replace("connection refused", failure)
        w.break_component("alga-core", waiting=("ErrImagePull", msg), image=CORE_IMAGE)
        assert (
            status_of(w, probe=probe_refused()).top_blockers[0].layer == "Platform DNS resolution"
        )


def test_T005_postgres_subpath_is_core_storage(world: Appliance, status_of: Evaluate) -> None:
    """T005/F013: db-0 CreateContainerConfigError subPath -> Core Postgres storage "
    "initialization."""
    world.break_component("db", waiting=("CreateContainerConfigError", MSG_SUBPATH))
    world.put(
        event(
            "Pod",
            "db-0",
            "Failed",
            f"Error: {MSG_SUBPATH}",
            first=-1800,
            last=-20,
            count=85,
            container="postgres",
        )
    )
    status = status_of(world, probe=probe_refused())
    top = status.top_blockers[0]
    assert top.layer == "Core Postgres storage initialization"
    assert top.component == "db"
    assert top.login_blocking
    assert not top.retryable
    assert "mkdir -p /mnt/data" in top.next_action
    assert "delete pod db-0" in top.next_action
    assert "alga-core-sebastian-postgres-data" in top.next_action
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED
    # The generic CreateContainerConfigError blocker is not repeated for db.
    assert "Workload container" not in _layers(status.top_blockers)


def test_T006_missing_background_tag_is_not_login_blocking(
    world: Appliance, status_of: Evaluate
) -> None:
    """T006/finding-16: workflow-worker:61e4a00e not found -> background, not login-blocking."""
    world.pull_backoff("workflow-worker", WORKFLOW_IMAGE, missing_tag_message(WORKFLOW_IMAGE))
    status = status_of(world)
    tag = next(b for b in status.top_blockers if b.layer == "Image tag availability")
    assert tag.component == "workflow-worker"
    assert not tag.login_blocking
    assert WORKFLOW_IMAGE in tag.reason
    assert status.rollup.state is RollupState.READY_WITH_BACKGROUND_ISSUES


def test_equal_blockers_keep_their_order_and_share_the_headline(
    world: Appliance, status_of: Evaluate
) -> None:
    """Issue 10, item 8: two missing tags seen at the same moment rank the same way whatever
    order the API lists them in, and the headline names both under one layer."""
    for worker in ("workflow-worker", "temporal-worker"):
        image = f"ghcr.io/nine-minds/{worker}:61e4a00e"
        world.pull_backoff(worker, image, missing_tag_message(image))
    forward = status_of(world)
    backward = status_of(Appliance(reversed(world.all())))
    order = [(b.layer, b.component) for b in forward.top_blockers]
    assert order == [(b.layer, b.component) for b in backward.top_blockers]
    assert order[:2] == [
        ("Image tag availability", "temporal-worker"),
        ("Image tag availability", "workflow-worker"),
    ]
    assert forward.rollup.message == backward.rollup.message
    assert (
        "Background services have issues: Image tag availability: temporal-worker, "
        "workflow-worker." in forward.rollup.message
    )


def test_T006_manifest_unknown_is_a_missing_tag(world: Appliance, status_of: Evaluate) -> None:
    """`manifest unknown` from a registry classifies like `not found`."""
    msg = (
        f'Failed to pull image "{WORKFLOW_IMAGE}": rpc error: code = NotFound desc = failed '
        "to pull "
        f'and unpack image "{WORKFLOW_IMAGE}": failed to resolve reference "{WORKFLOW_IMAGE}": '
        "unexpected status from HEAD request: 404 Not Found: manifest unknown"
    )
    world.pull_backoff("workflow-worker", WORKFLOW_IMAGE, msg)
    assert "Image tag availability" in _layers(status_of(world).top_blockers)


def test_T007_missing_core_tag_is_login_blocking(world: Appliance, status_of: Evaluate) -> None:
    """T007: alga-core image not found -> login-blocking, failed_action_required."""
    image = "ghcr.io/nine-minds/alga-psa-ee:deadbeef"
    world.pull_backoff("alga-core", image, missing_tag_message(image))
    status = status_of(world, probe=probe_refused())
    top = status.top_blockers[0]
    assert top.layer == "Image tag availability"
    assert top.component == "alga-core"
    assert top.login_blocking
    assert status.rollup.state is RollupState.FAILED_ACTION_REQUIRED


def test_T008_canceled_pull_is_retryable_interruption(
    world: Appliance, status_of: Evaluate
) -> None:
    """T008/finding-15: email-service `context canceled` -> Image pull interruption, retryable."""
    world.pull_backoff("email-service", EMAIL_IMAGE, canceled_pull_message(EMAIL_IMAGE))
    status = status_of(world)
    blocker = next(b for b in status.top_blockers if b.layer == "Image pull interruption")
    assert blocker.component == "email-service"
    assert blocker.retryable
    assert not blocker.login_blocking
    assert "delete pod" in blocker.next_action
    assert "Image tag availability" not in _layers(status.top_blockers)


def test_interrupted_core_pull_is_not_action_required(
    world: Appliance, status_of: Evaluate
) -> None:
    """An interrupted pull of a core image keeps the rollup `installing` (it retries)."""
    world.break_component(
        "alga-core",
        waiting=("ErrImagePull", canceled_pull_message(CORE_IMAGE).split(": ", 1)[1]),
        image=CORE_IMAGE,
    )
    world.put(
        event("Pod", pod_name("alga-core"), "Failed", canceled_pull_message(CORE_IMAGE), first=-60)
    )
    status = status_of(world, probe=probe_refused())
    assert status.top_blockers[0].layer == "Image pull interruption"
    assert status.rollup.state is RollupState.INSTALLING


def test_newer_not_found_wins_over_interruption(world: Appliance, status_of: Evaluate) -> None:
    """Review pass: a newer `not found` for the same component beats an older interruption."""
    world.pull_backoff(
        "workflow-worker", WORKFLOW_IMAGE, missing_tag_message(WORKFLOW_IMAGE), first=-600
    )
    world.put(
        event(
            "Pod",
            pod_name("workflow-worker"),
            "Failed",
            canceled_pull_message(WORKFLOW_IMAGE),
            first=-1200,
        )
    )
    layers = _layers(status_of(world).top_blockers)
    assert "Image tag availability" in layers
    assert "Image pull interruption" not in layers


def test_newer_interruption_replaces_older_not_found(world: Appliance, status_of: Evaluate) -> None:
    """A tag that was missing and is now being pulled (interrupted) is an interruption."""
    world.break_component(
        "email-service",
        waiting=("ImagePullBackOff", f'Back-off pulling image "{EMAIL_IMAGE}"'),
        image=EMAIL_IMAGE,
    )
    world.put(
        event(
            "Pod",
            pod_name("email-service"),
            "Failed",
            missing_tag_message(EMAIL_IMAGE),
            first=-1200,
        )
    )
    world.put(
        event(
            "Pod",
            pod_name("email-service"),
            "Failed",
            canceled_pull_message(EMAIL_IMAGE),
            first=-60,
        )
    )
    layers = _layers(status_of(world).top_blockers)
    assert "Image pull interruption" in layers
    assert "Image tag availability" not in layers


def test_T009_subpath_outranks_helm_timeout(world: Appliance, status_of: Evaluate) -> None:
    """T009/F016: Helm `context deadline exceeded` + db subPath -> subPath is the top blocker."""
    world.put(
        helm_release("alga-core", ready=False, reason="InstallFailed", message=MSG_HELM_TIMEOUT)
    )
    world.put(
        event(
            "HelmRelease",
            "alga-core",
            "InstallFailed",
            MSG_HELM_TIMEOUT,
            namespace="alga-system",
            component="helm-controller",
            first=-100,
        )
    )
    world.break_component("db", waiting=("CreateContainerConfigError", MSG_SUBPATH))
    world.put(
        event("Pod", "db-0", "Failed", f"Error: {MSG_SUBPATH}", first=-2400, last=-20, count=120)
    )
    world.put(
        job(
            "alga-core-sebastian-bootstrap-r1",
            state="failed",
            message="Job has reached the specified backoff limit",
        )
    )
    status = status_of(world, probe=probe_refused())
    layers = _layers(status.top_blockers)
    assert layers[0] == "Core Postgres storage initialization"
    assert "Helm release" in layers
    assert layers.index("Helm release") > layers.index("Bootstrap job")
    # The Helm timeout is not mistaken for an image pull interruption.
    assert "Image pull interruption" not in layers


def test_T011_temporal_schema_failure(world: Appliance, status_of: Evaluate) -> None:
    """T011/F018: `sql schema version compatibility check failed` -> Temporal schema "
    "initialization."""
    world.break_component(
        "temporal",
        waiting=(
            "CrashLoopBackOff",
            "back-off 2m40s restarting failed container=temporal pod=temporal-66c8d5f9b7-ab3cd",
        ),
        terminated=("Error", MSG_TEMPORAL_SCHEMA),
    )
    status = status_of(world)
    blocker = status.top_blockers[0]
    assert blocker.layer == "Temporal schema initialization"
    assert blocker.component == "temporal"
    assert "autosetup" in blocker.next_action
    assert not blocker.login_blocking
    assert status.rollup.state is RollupState.READY_WITH_BACKGROUND_ISSUES


def test_T012_service_link_collision(world: Appliance, status_of: Evaluate) -> None:
    """T012/F019: `cannot unmarshal !!str tcp://... into int` -> service-link collision."""
    world.break_component(
        "temporal-ui",
        waiting=("CrashLoopBackOff", "back-off 1m20s restarting failed container=temporal-ui"),
        terminated=("Error", MSG_SERVICE_LINK),
    )
    blocker = status_of(world).top_blockers[0]
    assert blocker.layer == "Kubernetes service-link environment collision"
    assert blocker.component == "temporal-ui"
    assert "enableServiceLinks: false" in blocker.next_action


def test_old_failures_of_ready_components_are_history(
    world: Appliance, status_of: Evaluate
) -> None:
    """finding-15: email-service's canceled pull, then Ready -> no blocker."""
    world.put(
        event(
            "Pod",
            pod_name("email-service"),
            "Failed",
            canceled_pull_message(EMAIL_IMAGE),
            first=-2000,
        )
    )
    world.put(event("Pod", "db-0", "Failed", f"Error: {MSG_SUBPATH}", first=-3000))
    status = status_of(world)
    assert status.top_blockers == []
    assert status.rollup.state is RollupState.FULLY_HEALTHY


def test_blocker_since_is_first_seen(world: Appliance, status_of: Evaluate) -> None:
    """A blocker's `since` is when its evidence was first seen (cluster time)."""
    world.pull_backoff(
        "workflow-worker", WORKFLOW_IMAGE, missing_tag_message(WORKFLOW_IMAGE), first=-900
    )
    tag = next(b for b in status_of(world).top_blockers if b.layer == "Image tag availability")
    assert tag.since is not None
    assert tag.since.strftime("%Y-%m-%dT%H:%M:%SZ") == ts(-870)
