"""The Platform phase against the fake Kubernetes API: T013, idempotent recover, dry run."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.bootstrap.display import Display
from appliance.bootstrap.platform import ROTATED_ANNOTATION, run_platform_phase
from appliance.cluster.applying import Applier
from appliance.cluster.connecting import connect
from appliance.releases import load_release
from appliance.tokens import ensure_status_token
from tests.fixtures import GITOPS_SOURCE
from tests.integration.fake_api_harness import Harness, running_api

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Harness]:
    with running_api(tmp_path) as harness:
        yield harness


def platform(harness: Harness, config_dir: Path, *, dry_run: bool = False) -> tuple[str, str]:
    out = io.StringIO()
    token = ensure_status_token(config_dir, site_id="site", dry_run=dry_run)
    cluster = None if dry_run else connect(harness.kubeconfig)
    try:
        run_platform_phase(
            applier=Applier(cluster, dry_run=dry_run),
            kubeconfig=harness.kubeconfig,
            display=Display(out),
            release=load_release("1.0-rc5"),
            source=GITOPS_SOURCE,
            token=token.value,
            app_url="http://192.0.2.10:3000",
            site_id="site",
            which=lambda _: None,
        )
    finally:
        if cluster is not None:
            cluster.close()
    return token.value, out.getvalue()


def secret_value(harness: Harness, namespace: str, name: str, key: str) -> str:
    obj = harness.store.get("v1", "Secret", name, namespace)
    assert obj is not None, f"Secret {namespace}/{name} missing"
    return base64.b64decode(obj["data"][key]).decode()


def test_token_file_matches_the_cluster_secret(api: Harness, tmp_path: Path) -> None:
    """T013: the persisted token is the one in appliance-system/appliance-status-auth."""
    token, _ = platform(api, tmp_path / "cfg")
    on_disk = (tmp_path / "cfg" / "site" / "status-token").read_text().strip()
    assert on_disk == token
    assert secret_value(api, "appliance-system", "appliance-status-auth", "token") == token


def test_gitops_objects_are_submitted_with_the_chain(api: Harness, tmp_path: Path) -> None:
    """The GitRepository and three Kustomizations exist with dependsOn after the phase."""
    platform(api, tmp_path / "cfg")
    core = api.store.get(
        "kustomize.toolkit.fluxcd.io/v1", "Kustomization", "alga-core", "flux-system"
    )
    assert core is not None
    assert core["spec"]["dependsOn"] == [{"name": "alga-platform"}]
    assert (
        api.store.get(
            "source.toolkit.fluxcd.io/v1", "GitRepository", "alga-appliance", "flux-system"
        )
        is not None
    )


def test_rerun_keeps_token_and_database_password(api: Harness, tmp_path: Path) -> None:
    """Recover reruns reuse the token and never replace the database password."""
    first, _ = platform(api, tmp_path / "cfg")
    password = secret_value(api, "msp", "alga-db-credentials", "password")
    second, _ = platform(api, tmp_path / "cfg")
    assert second == first
    assert secret_value(api, "msp", "alga-db-credentials", "password") == password


def test_dry_run_makes_zero_mutating_requests(api: Harness, tmp_path: Path) -> None:
    """--dry-run prints the plan and the fake API's request log shows no mutating request."""
    before = len(api.server.request_log)
    _, text = platform(api, tmp_path / "cfg", dry_run=True)
    mutating = [r for r in api.server.request_log[before:] if r.method in MUTATING]
    assert mutating == []
    assert "would create Secret msp/alga-db-credentials" in text
    assert not (tmp_path / "cfg" / "site" / "status-token").exists()


def test_recover_dry_run_bootstrap_makes_zero_mutating_requests(
    api: Harness, tmp_path: Path
) -> None:
    """A whole `bootstrap --bootstrap-mode recover --dry-run` run leaves the API untouched."""
    from appliance.bootstrap.flags import options_from_args
    from appliance.bootstrap.running import Collaborators, run_bootstrap
    from tests.unit.bootstrap.conftest import BASE, parse

    (tmp_path / "cfg").mkdir()
    options = options_from_args(
        parse(
            *BASE,
            "--config-dir",
            str(tmp_path / "cfg"),
            "--bootstrap-mode",
            "recover",
            "--kubeconfig",
            str(api.kubeconfig),
            "--repo-url",
            "/repo",
            "--branch-override",
            "main",
            "--dry-run",
        )
    )
    before = len(api.server.request_log)
    out = io.StringIO()
    code = run_bootstrap(
        options, display=Display(out), collaborators=Collaborators(workdir=tmp_path)
    )
    assert code == 0, out.getvalue()
    assert [r for r in api.server.request_log[before:] if r.method in MUTATING] == []
    assert "Dry run complete: no changes were made." in out.getvalue()


def test_status_service_config_names_app_url_and_site(api: Harness, tmp_path: Path) -> None:
    """The status service learns the login URL and site id from its ConfigMap."""
    platform(api, tmp_path / "cfg")
    config = api.store.get("v1", "ConfigMap", "appliance-status-config", "appliance-system")
    assert config is not None
    assert config["data"] == {"appUrl": "http://192.0.2.10:3000", "siteId": "site"}


def test_reset_force_deletes_the_appliance_objects(api: Harness, tmp_path: Path) -> None:
    """`reset --force` removes the Kustomizations, the source and the app namespaces."""
    from appliance.reset import EXIT_OK, plan_reset, run_reset

    platform(api, tmp_path / "cfg")
    plan = plan_reset(
        kubeconfig=api.kubeconfig,
        config_dir=tmp_path / "cfg",
        site_id="site",
        node_ip=None,
        talosconfig=None,
    )
    lines: list[str] = []
    assert run_reset(plan, force=True, dry_run=False, out=lines.append) == EXIT_OK, lines
    kust = "kustomize.toolkit.fluxcd.io/v1"
    for name in ("alga-platform", "alga-core", "alga-background"):
        assert api.store.get(kust, "Kustomization", name, "flux-system") is None
    assert any(line.startswith("deleted: Namespace/msp") for line in lines)
    assert (tmp_path / "cfg" / "site" / "status-token").exists()


def test_unreachable_api_fails_in_the_platform_layer(tmp_path: Path) -> None:
    """A kubeconfig whose API never answers ends in `Failure layer: platform`, not a traceback."""
    from appliance.bootstrap.flags import options_from_args
    from appliance.bootstrap.running import Collaborators, run_bootstrap
    from tests.unit.bootstrap.conftest import BASE, parse

    with running_api(tmp_path) as harness:
        kubeconfig = harness.kubeconfig.read_text()
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text(kubeconfig)  # the server is stopped now: connection refused
    (tmp_path / "cfg").mkdir()
    options = options_from_args(
        parse(
            *BASE,
            "--config-dir",
            str(tmp_path / "cfg"),
            "--bootstrap-mode",
            "recover",
            "--kubeconfig",
            str(dead),
            "--repo-url",
            "/repo",
            "--branch-override",
            "main",
            "--skip-image-tag-validation",
            "--host-timeout",
            "3",
            "--poll-interval",
            "1",
        )
    )
    out = io.StringIO()
    clock = iter(range(0, 1000))
    code = run_bootstrap(
        options,
        display=Display(out),
        collaborators=Collaborators(
            workdir=tmp_path, sleep=lambda _: None, monotonic=lambda: float(next(clock))
        ),
    )
    assert code == 1
    assert "Failure layer: platform" in out.getvalue()
    assert "did not answer within 3s" in out.getvalue()


def test_a_new_token_nudges_the_status_pod_to_refresh_its_secret(
    api: Harness, tmp_path: Path
) -> None:
    """Issue 9 item 1: a rerun with a new token updates the Secret and annotates the running
    status pod (the kubelet then refreshes the mounted Secret at once); the same token does not."""
    config = tmp_path / "cfg"
    first, _ = platform(api, config)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "appliance-status-abc",
            "namespace": "appliance-system",
            "labels": {"app.kubernetes.io/name": "appliance-status"},
        },
        "spec": {"containers": [{"name": "s", "image": "ghcr.io/nine-minds/appliance-status"}]},
    }
    api.store.create(pod)
    _, same_out = platform(api, config)
    annotations = api.store.get("v1", "Pod", "appliance-status-abc", "appliance-system")
    assert annotations is not None
    assert ROTATED_ANNOTATION not in (annotations["metadata"].get("annotations") or {})
    assert "status token changed" not in same_out

    (config / "site" / "status-token").unlink()
    second, out = platform(api, config)
    assert second != first
    assert secret_value(api, "appliance-system", "appliance-status-auth", "token") == second
    nudged = api.store.get("v1", "Pod", "appliance-status-abc", "appliance-system")
    assert nudged is not None
    assert ROTATED_ANNOTATION in nudged["metadata"]["annotations"]
    assert "the status token changed" in out
