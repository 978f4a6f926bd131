"""How the real Flux controllers are started behind their pods (simulator/controlplane/flux.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from simulator.controlplane.flux import flux_process_images


def test_each_controller_has_its_own_temp_root_in_its_working_directory(tmp_path: Path) -> None:
    """kustomize-controller deletes every `kustomization-*` in its temp root when it starts: in
    a shared /tmp that was another control plane's extraction in progress (the suite's
    parallel lanes saw artifacts vanish). Each controller's is its own, in its pod's folder."""
    program = tmp_path / "controller"
    program.write_text('#!/bin/sh\nprintf %s "$TMPDIR"\n')
    program.chmod(0o755)
    (image,) = flux_process_images({"kustomize-controller": program})
    values = {"sa_kubeconfig": "kubeconfig", "namespace": "flux-system", "node_ip": "127.0.0.1"}
    pod = tmp_path / "pod"
    pod.mkdir()
    argv = [part.format(**values) for part in image.argv]
    done = subprocess.run(argv, cwd=pod, capture_output=True, text=True, check=True, timeout=30)
    assert done.stdout == str(pod / "tmp")
    assert (pod / "tmp").is_dir()
