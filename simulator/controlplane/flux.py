"""The real Flux controllers as the processes behind their pods, on the world's node address.

When `flux install` applies the controller Deployments, a `ProcessRunner` starts the program
built from the controller's module for each, with a kubeconfig carrying a TokenRequest token of
the controller's own ServiceAccount (so RBAC applies as in a cluster). Each listens on the node
address with its own ports (a pod would have its own IP): source-controller serves artifacts on
9090 and advertises that address, which is where kustomize-controller fetches them.
Dependencies are re-checked every second instead of every 30s: the world runs faster than the
wall clock, and `dependsOn` must not wait thirty virtual minutes per link.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from simulator.neighbours.processes import ProcessImage

__all__ = ["FLUX_HEALTH_PORTS", "flux_process_images"]

FLUX_HEALTH_PORTS = {
    "source-controller": 9440,
    "kustomize-controller": 9441,
    "helm-controller": 9442,
}
ARTIFACT_PORT = 9090


def flux_process_images(binaries: Mapping[str, Path]) -> tuple[ProcessImage, ...]:
    """How to run each built Flux controller for a Deployment of its image."""
    images = []
    for name, port in FLUX_HEALTH_PORTS.items():
        if name not in binaries:
            continue
        argv = [
            # The artifact store must exist before source-controller starts; `sh` makes it in the
            # process's working directory, then becomes the controller. Each controller gets its
            # own temp root there too: kustomize-controller deletes every `kustomization-*` in
            # its temp root when it starts (a previous run's leftovers), which in a shared /tmp
            # were the live extractions of another control plane's kustomize-controller.
            "sh",
            "-c",
            'mkdir -p artifacts tmp && export TMPDIR="$PWD/tmp" && exec "$@"',
            "sh",
            "env",
            "KUBECONFIG={sa_kubeconfig}",
            "RUNTIME_NAMESPACE={namespace}",
            str(binaries[name]),
            "--watch-all-namespaces=true",
            "--log-level=info",
            "--log-encoding=json",
            "--enable-leader-election=false",
            f"--health-addr={{node_ip}}:{port}",
            "--metrics-addr=0",
        ]
        if name == "source-controller":
            argv += [
                "--storage-path=artifacts",
                f"--storage-addr={{node_ip}}:{ARTIFACT_PORT}",
                f"--storage-adv-addr={{node_ip}}:{ARTIFACT_PORT}",
            ]
        else:
            argv.append("--requeue-dependency=1s")
        images.append(
            ProcessImage(
                image_prefix=f"ghcr.io/fluxcd/{name}",
                argv=tuple(argv),
                port=port,
                health_path="/readyz",
                token_secret=None,
                fixed_port=True,
            )
        )
    return tuple(images)
