"""The Platform phase: namespaces, Flux, secrets, the status service and the GitOps submission.

Order matters: the status service comes up before the app (T020), so the admin has a status page
while the long image pulls run; the Flux Kustomizations are chained
`alga-platform -> alga-core -> alga-background` so background failures never hold back login (F020).

Objects only the appliance writes (its Secrets and ConfigMap, the status service, the GitOps
objects) are applied with `force`; shared ones (namespaces, which the platform tier's manifests
also declare, and Flux's own manifests, which `flux install` may have applied) are not, so a
conflicting value is reported instead of taken over.
"""

from __future__ import annotations

import base64
import secrets
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.bootstrap.display import Display
from appliance.bootstrap.gitsource import GitSource
from appliance.bootstrap.manifests import build, manifest_dir
from appliance.cluster.applying import Applier, ApplyError
from appliance.cluster.reading import APP_URL_KEY, STATUS_CONFIG
from appliance.errors import BootstrapError
from appliance.releases import ReleaseImage, ReleaseManifest

__all__ = [
    "FLUX_NAMESPACE",
    "KUSTOMIZATION_CHAIN",
    "NAMESPACES",
    "ROTATED_ANNOTATION",
    "SOURCE_NAME",
    "STATUS_SECRET",
    "flux_sync_objects",
    "install_flux",
    "run_platform_phase",
    "secret_object",
    "status_config_object",
]

FLUX_NAMESPACE = "flux-system"
SOURCE_NAME = "alga-appliance"
NAMESPACES = ("flux-system", "appliance-system", "msp")
STATUS_SECRET = ("appliance-system", "appliance-status-auth")
DB_SECRET = ("msp", "alga-db-credentials")
# name -> (manifest dir under the source path, dependsOn, tier whose images it gets)
KUSTOMIZATION_CHAIN: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("alga-platform", "platform", None, None),
    ("alga-core", "core", "alga-platform", "core"),
    ("alga-background", "background", "alga-core", "background"),
)


def secret_object(namespace: str, name: str, values: dict[str, str]) -> dict[str, Any]:
    """An Opaque Secret with base64 `data` (what every API server stores)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "alga-appliance"},
        },
        "type": "Opaque",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
    }


def _namespace(name: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    # flux-system is Flux's: `flux install` labels it part-of=flux and takes the field with
    # force, so claiming it too would be a server-side apply conflict on every rerun.
    if name != FLUX_NAMESPACE:
        metadata["labels"] = {"app.kubernetes.io/part-of": "alga-appliance"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def _images(images: list[ReleaseImage]) -> list[dict[str, str]]:
    return [{"name": i.image, "newTag": i.tag} for i in images]


def flux_sync_objects(
    source: GitSource, release: ReleaseManifest, *, interval: str = "1m"
) -> list[dict[str, Any]]:
    """The GitRepository and the three chained Kustomizations (images from the release)."""
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": {"name": SOURCE_NAME, "namespace": FLUX_NAMESPACE},
            "spec": {
                "url": source.repo_url,
                "ref": {"branch": source.branch},
                "interval": interval,
            },
        }
    ]
    for name, subdir, depends, tier in KUSTOMIZATION_CHAIN:
        spec: dict[str, Any] = {
            "interval": interval,
            "path": f"{source.path}/{subdir}",
            "prune": True,
            "wait": True,
            "timeout": "60m",
            "sourceRef": {"kind": "GitRepository", "name": SOURCE_NAME},
        }
        if depends:
            spec["dependsOn"] = [{"name": depends}]
        if tier == "core":
            spec["images"] = _images(release.core_images)
        elif tier == "background":
            # Background images may be missing (finding-16/17): never `wait` on them for long.
            spec["images"] = _images(release.background_images)
            spec["wait"] = False
        objects.append(
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": {
                    "name": name,
                    "namespace": FLUX_NAMESPACE,
                    "labels": {"app.kubernetes.io/part-of": "alga-appliance"},
                },
                "spec": spec,
            }
        )
    return objects


def install_flux(
    applier: Applier,
    *,
    kubeconfig: Path,
    display: Display,
    which: Callable[[str], str | None] = shutil.which,
) -> str:
    """`flux install` where the CLI exists (as on an admin machine), else the shipped manifests."""
    flux = which("flux")
    if flux:
        args = [
            flux,
            "install",
            "--kubeconfig",
            str(kubeconfig),
            "--components",
            "source-controller,kustomize-controller",
        ]
        if applier.dry_run:
            display.progress(f"would run: {' '.join(args[1:])}")
            return "flux-cli"
        display.progress("installing Flux with `flux install`")
        done = subprocess.run(args, capture_output=True, text=True, check=False, timeout=900)
        if done.returncode != 0:
            raise BootstrapError(
                f"flux install failed: {(done.stderr or done.stdout).strip()[-400:]}",
                layer="platform",
                next_action="check cluster access with the kubeconfig and rerun in recover mode",
            )
        return "flux-cli"
    display.progress(
        "installing Flux from the manifests shipped with the release (no `flux` CLI on PATH)"
    )
    applier.apply_all(build(manifest_dir("flux")))
    return "manifests"


def _ensure_db_secret(applier: Applier, display: Display) -> None:
    namespace, name = DB_SECRET
    if applier.dry_run:
        display.progress(f"would create Secret {namespace}/{name} if absent (kept on reruns)")
        return
    # Never replace: the database was initialised with this password (recover keeps data).
    if applier.get("v1", "Secret", name, namespace=namespace) is None:
        applier.apply(
            secret_object(namespace, name, {"password": secrets.token_urlsafe(24)}), force=True
        )
        display.progress(f"created Secret {namespace}/{name}")


def status_config_object(*, app_url: str, site_id: str) -> dict[str, Any]:
    """ConfigMap the status service reads its login URL and site id from (env at pod start)."""
    namespace, name = STATUS_CONFIG
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "alga-appliance"},
        },
        "data": {APP_URL_KEY: app_url, "siteId": site_id},
    }


STATUS_POD_SELECTOR = "app.kubernetes.io/name=appliance-status"
ROTATED_ANNOTATION = "appliance.nine-minds.com/token-rotated-at"


def _stored_token(applier: Applier) -> str | None:
    """The token Secret appliance-status-auth holds now (None when absent, or in a dry run)."""
    if applier.dry_run:
        return None
    namespace, name = STATUS_SECRET
    current = applier.get("v1", "Secret", name, namespace=namespace)
    encoded = ((current or {}).get("data") or {}).get("token")
    return base64.b64decode(encoded).decode("utf-8", "replace") if encoded else None


def _nudge_status_pods(applier: Applier, display: Display) -> None:
    """The token changed: make the kubelet refresh the mounted Secret now, not in a minute.

    The status service re-reads its token file within a second, but the kubelet rewrites a
    mounted Secret only on its next sync of the pod (up to about a minute). A change to the pod
    itself (an annotation, not the template: nothing restarts) makes it sync at once.
    """
    namespace = STATUS_SECRET[0]
    stamp = applier.server_now().strftime("%Y-%m-%dT%H:%M:%SZ")
    for pod in applier.list_objects(
        "v1", "Pod", namespace=namespace, label_selector=STATUS_POD_SELECTOR
    ):
        name = str((pod.get("metadata") or {}).get("name") or "")
        if name:
            patch = {"metadata": {"annotations": {ROTATED_ANNOTATION: stamp}}}
            applier.merge_patch("v1", "Pod", name, patch, namespace=namespace)
    display.progress(
        "the status token changed: the status service takes the new one within seconds; "
        "the old token and its sessions no longer work"
    )


def _status_service(applier: Applier, display: Display) -> None:
    directory = manifest_dir("status")
    if not directory.is_dir():
        display.warn(
            f"status service manifests missing ({directory}); the status UI will not come up"
        )
        return
    results = applier.apply_all(build(directory), force=True)
    display.progress(f"status service manifests applied ({len(results)} objects)")


def run_platform_phase(
    *,
    applier: Applier,
    kubeconfig: Path,
    display: Display,
    release: ReleaseManifest,
    source: GitSource,
    token: str,
    app_url: str,
    site_id: str,
    which: Callable[[str], str | None] = shutil.which,
    before_gitops: Callable[[], None] | None = None,
) -> None:
    """Everything up to and including the GitOps submission.

    `before_gitops` runs once the namespaces exist and before the workloads are submitted
    (the image pre-pull hooks in there).
    """
    try:
        for name in NAMESPACES:
            applier.apply(_namespace(name))
        display.progress(f"namespaces: {', '.join(NAMESPACES)}")
        install_flux(applier, kubeconfig=kubeconfig, display=display, which=which)
        namespace, name = STATUS_SECRET
        rotated = _stored_token(applier) not in (None, token)
        applier.apply(secret_object(namespace, name, {"token": token}), force=True)
        display.progress(f"Secret {namespace}/{name} holds the status token")
        if rotated:
            _nudge_status_pods(applier, display)
        _ensure_db_secret(applier, display)
        # Before the status Deployment: its pod reads these as env vars when it starts.
        applier.apply(status_config_object(app_url=app_url, site_id=site_id), force=True)
        _status_service(applier, display)
        if before_gitops is not None:
            before_gitops()
        applier.apply_all(flux_sync_objects(source, release), force=True)
        verb = "would submit GitOps" if applier.dry_run else "GitOps submitted"
        display.progress(
            f"{verb}: GitRepository {FLUX_NAMESPACE}/{SOURCE_NAME}, "
            "Kustomizations alga-platform -> alga-core -> alga-background"
        )
    except ApplyError as exc:
        raise BootstrapError(
            str(exc),
            layer="platform",
            next_action="check the Kubernetes API with the kubeconfig, then "
            "rerun with --bootstrap-mode recover",
        ) from exc
