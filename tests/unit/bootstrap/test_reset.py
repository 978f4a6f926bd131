"""T017 / finding-03: reset never dies on unset values; --dry-run and --force behave."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from appliance.reset import EXIT_OK, EXIT_REFUSED, plan_reset, run_reset


def test_force_dry_run_with_nothing_set_succeeds(tmp_path: Path) -> None:
    """T017: `reset --force --dry-run` with no kubeconfig, site or node prints a plan, exits 0."""
    plan = plan_reset(
        kubeconfig=None, config_dir=tmp_path, site_id=None, node_ip=None, talosconfig=None
    )
    lines: list[str] = []
    assert run_reset(plan, force=True, dry_run=True, out=lines.append) == EXIT_OK
    text = "\n".join(lines)
    assert "no kubeconfig found" in text
    assert "Dry run: nothing was deleted." in text


def test_cli_force_dry_run_exits_zero(tmp_path: Path) -> None:
    """The real command line `appliance reset --force --dry-run` exits 0."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "appliance.cli",
            "reset",
            "--force",
            "--dry-run",
            "--config-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "appliance reset plan:" in done.stdout


def test_plan_lists_what_will_be_deleted(tmp_path: Path) -> None:
    """With a kubeconfig and node, the plan names the Flux objects, namespaces and Talos reset."""
    site = tmp_path / "appliance-single-node"
    site.mkdir()
    (site / "kubeconfig").write_text("clusters: []\n")
    plan = plan_reset(
        kubeconfig=None,
        config_dir=tmp_path,
        site_id=None,
        node_ip="192.0.2.10",
        talosconfig=None,
    )
    text = "\n".join(plan.lines())
    assert "delete Kustomization flux-system/alga-background" in text
    assert "delete Namespace msp (all app data" in text
    assert "reset node 192.0.2.10 to maintenance mode" in text
    assert "keep: local site files" in text


def test_refuses_without_force(tmp_path: Path) -> None:
    """Without --force nothing is deleted and the exit code says refused."""
    plan = plan_reset(
        kubeconfig=None, config_dir=tmp_path, site_id="s", node_ip=None, talosconfig=None
    )
    lines: list[str] = []
    assert run_reset(plan, force=False, dry_run=False, out=lines.append) == EXIT_REFUSED
    assert any("Refusing to reset without --force" in line for line in lines)


def test_reset_names_the_objects_bootstrap_creates() -> None:
    """Reset deletes exactly the Kustomizations and source the Platform phase submits."""
    from appliance import reset
    from appliance.bootstrap import platform

    assert reset.FLUX_NAMESPACE == platform.FLUX_NAMESPACE
    assert reset.SOURCE_NAME == platform.SOURCE_NAME
    chain = [name for name, *_ in platform.KUSTOMIZATION_CHAIN]
    assert list(reset.KUSTOMIZATIONS) == list(reversed(chain))
