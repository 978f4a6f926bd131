"""The control plane's build step builds only what is used: helm-controller's program is optional
(nothing the product deploys is a HelmRelease) but its CRDs are always fetched.

A stand-in `go` on PATH plays the toolchain: `build -o X` writes X, `list -m` names a module folder
holding CRDs; the build logic around it (cache keys, assets-only folders, adding a program to one)
is the real code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator.controlplane import binaries

FAKE_GO = """#!/bin/sh
case "$1" in
  env) echo go1.26.0 ;;
  mod) exit 0 ;;
  list) echo "$MODULE_SOURCE" ;;
  build) out=""; while [ $# -gt 0 ]; do [ "$1" = -o ] && out="$2"; shift; done
         echo "$PWD" >> "$BUILD_LOG"; printf '#!/bin/sh\\n' > "$out"; chmod +x "$out" ;;
esac
"""


@pytest.fixture
def fake_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "go").write_text(FAKE_GO)
    (bin_dir / "go").chmod(0o755)
    source = tmp_path / "module" / "config" / "crd" / "bases"
    source.mkdir(parents=True)
    (source / "helm.toolkit.fluxcd.io_helmreleases.yaml").write_text(
        "kind: CustomResourceDefinition\n"
    )
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("MODULE_SOURCE", str(tmp_path / "module"))
    monkeypatch.setenv("BUILD_LOG", str(tmp_path / "built.log"))
    monkeypatch.setenv("APPLIANCE_SIM_CACHE", str(tmp_path / "cache"))
    binaries._go_version.cache_clear()
    return tmp_path / "built.log"


def test_the_default_build_leaves_helm_controller_out_but_fetches_its_crds(fake_go: Path) -> None:
    found = binaries.build_missing(echo=False)
    assert "helm-controller" not in found
    assert {*binaries.KUBERNETES_PROGRAMS, *binaries.FLUX_PROGRAMS} <= found.keys()
    assert not any(line.endswith("/helm-controller") for line in fake_go.read_text().split())
    crds = [f.name for f in binaries.flux_crd_files()]
    assert "helm.toolkit.fluxcd.io_helmreleases.yaml" in crds


def test_asking_for_everything_adds_the_program_to_the_assets_only_folder(fake_go: Path) -> None:
    binaries.build_missing(echo=False)
    builds = len(fake_go.read_text().split())
    found = binaries.build_missing(echo=False, optional=True)
    assert "helm-controller" in found
    assert len(fake_go.read_text().split()) == builds + 1  # only helm-controller was built
    assert binaries.build_missing(echo=False, optional=True) == found
    assert len(fake_go.read_text().split()) == builds + 1  # and nothing again
