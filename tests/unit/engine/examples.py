"""The shipped example dumps (appliance/examples/), built from the same realistic builders.

Regenerate: `python -m tests.unit.engine.examples`. Files are written exactly as
`kubectl get <kinds> -A -o json` prints: a v1 List, keys sorted, 4-space indent, `<>&` escaped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.unit.engine.builders import (
    CORE_IMAGE,
    MSG_SUBPATH,
    RELEASE,
    World,
    event,
    healthy_world,
    kustomization,
    missing_tag_message,
    pod,
    pod_name,
)

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "appliance" / "examples"


def kubectl_json(document: Any) -> str:
    """JSON text as kubectl's printer writes it (Go's MarshalIndent of an unstructured map)."""
    text = json.dumps(document, indent=4, sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def kubectl_list(objects: list[dict[str, Any]]) -> str:
    """A `kubectl get ... -A -o json` file."""
    doc = {
        "apiVersion": "v1",
        "items": objects,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    }
    return kubectl_json(doc) + "\n"


def _missing_tag(w: World, component: str, image: str) -> None:
    w.break_component(
        component, waiting=("ImagePullBackOff", f'Back-off pulling image "{image}"'), image=image
    )
    name = pod_name(component)
    w.put(
        event(
            "Pod",
            name,
            "Pulling",
            f'Pulling image "{image}"',
            type_="Normal",
            first=-1500,
            last=-40,
            count=9,
            container=component,
        )
    )
    w.put(
        event(
            "Pod",
            name,
            "Failed",
            missing_tag_message(image),
            first=-1480,
            last=-38,
            count=9,
            container=component,
        )
    )
    w.put(
        event(
            "Pod",
            name,
            "Failed",
            "Error: ErrImagePull",
            first=-1480,
            last=-38,
            count=9,
            container=component,
        )
    )
    w.put(
        event(
            "Pod",
            name,
            "BackOff",
            f'Back-off pulling image "{image}"',
            first=-1470,
            last=-20,
            count=110,
            container=component,
        )
    )
    w.put(
        event(
            "Pod",
            name,
            "Failed",
            "Error: ImagePullBackOff",
            first=-1470,
            last=-20,
            count=110,
            container=component,
        )
    )


def background_issues() -> World:
    """rc5 on UTM after recovery: login works; workflow/temporal workers' tags are missing."""
    w = healthy_world()
    _missing_tag(w, "workflow-worker", "ghcr.io/nine-minds/workflow-worker:61e4a00e")
    _missing_tag(w, "temporal-worker", "ghcr.io/nine-minds/temporal-worker:61e4a00e")
    w.put(
        kustomization(
            "alga-background",
            ready=False,
            reason="HealthCheckFailed",
            message="health check failed after 30m0s: timeout waiting for: "
            "[Deployment/msp/workflow-worker status: 'InProgress', "
            "Deployment/msp/temporal-worker status: 'InProgress']",
        )
    )
    return w


def core_image_pull() -> World:
    """finding-18: the core image is still pulling (Init:0/1, bootstrap ContainerCreating)."""
    w = healthy_world()
    w.events = [e for e in w.events if "alga-core" not in e["involvedObject"]["name"]]
    core = pod_name("alga-core")
    w.put(
        pod(
            core,
            labels={"app.kubernetes.io/name": "alga-core"},
            image=CORE_IMAGE,
            container="alga-core",
            ready=False,
            waiting=("PodInitializing", None),
            init_image=CORE_IMAGE,
            init_waiting=("PodInitializing", None),
        )
    )
    w.get("Deployment", "msp", f"alga-core-{RELEASE}")["status"].pop("readyReplicas")
    boot = f"alga-core-{RELEASE}-bootstrap-r1"
    w.remove("Pod", "msp", f"{boot}-x7k2p")
    from tests.unit.engine.builders import job

    w.put(job(boot, state="running"))
    w.put(
        pod(
            f"{boot}-x7k2p",
            labels={"job-name": boot},
            image=CORE_IMAGE,
            container="bootstrap",
            ready=False,
            waiting=("ContainerCreating", None),
        )
    )
    for name in (core, f"{boot}-x7k2p"):
        w.put(
            event(
                "Pod",
                name,
                "Scheduled",
                f"Successfully assigned msp/{name} to appliance-single-node",
                type_="Normal",
                first=-570,
                component="default-scheduler",
            )
        )
        w.put(
            event(
                "Pod", name, "Pulling", f'Pulling image "{CORE_IMAGE}"', type_="Normal", first=-565
            )
        )
    for comp in ("email-service", "temporal", "temporal-ui", "workflow-worker", "temporal-worker"):
        w.remove("Deployment", "msp", comp)
        w.remove("Pod", "msp", pod_name(comp))
    w.put(
        kustomization(
            "alga-background",
            ready=False,
            reason="DependencyNotReady",
            message="dependency 'flux-system/alga-core' is not ready",
        )
    )
    w.put(
        kustomization(
            "alga-core",
            ready=None,
            reason="Progressing",
            message="Running health checks for revision "
            "'release/1.0-rc5@sha1:284313f908c1e2d4a5b6c7d8e9f0a1b2c3d4e5f6' "
            "with a timeout of 45m0s",
        )
    )
    return w


def db_subpath() -> World:
    """finding-07/09: db-0 CreateContainerConfigError on subPath; Helm install timed out."""
    from tests.unit.engine.builders import MSG_HELM_TIMEOUT, helm_release, job

    w = healthy_world()
    w.break_component("db", waiting=("CreateContainerConfigError", MSG_SUBPATH))
    w.put(
        event(
            "Pod",
            "db-0",
            "Failed",
            f"Error: {MSG_SUBPATH}",
            first=-2700,
            last=-15,
            count=130,
            container="postgres",
        )
    )
    w.put(helm_release("alga-core", ready=False, reason="InstallFailed", message=MSG_HELM_TIMEOUT))
    w.put(
        job(
            f"alga-core-{RELEASE}-bootstrap-r1",
            state="failed",
            message="Job has reached the specified backoff limit",
        )
    )
    return w


EXAMPLES = {
    "utm-rc5-background-issues.json": background_issues,
    "utm-rc5-core-image-pull.json": core_image_pull,
    "utm-rc5-db-subpath.json": db_subpath,
}


def render_examples() -> dict[str, str]:
    """File name -> exact file text."""
    return {name: kubectl_list(build().all()) for name, build in EXAMPLES.items()}


if __name__ == "__main__":
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in render_examples().items():
        (EXAMPLES_DIR / name).write_text(text, encoding="utf-8")
        print(EXAMPLES_DIR / name)
