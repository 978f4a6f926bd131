"""Recording the corpus: what a user does with kubectl, the official client and helm.

Each program runs unmodified against a fresh fake API and the requests it made are taken from the
request log. The steps are what an operator of the appliance runs day to day (create, get as a
table and as YAML, label, patch in the three patch types, scale, describe, page through a list,
watch, delete), server-side apply (an apply, a conflict with another manager, a forced one, a
second manager, a client-side applied object taken over), a custom resource (its CRD, apply,
get, explain, delete) and the refusals they meet (404, 409, 422).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from simulator.api import ApiServer
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from simulator.errors import SimulatorError
from simulator.fidelity.corpus import CorpusRequest
from simulator.fidelity.recording import from_log

__all__ = ["KUBECTL_STEPS", "record_users"]

NAMESPACE = "shop"
_KUBECTL = Path(sys.executable).parent / "kubectl"
_MANIFEST = """
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: shop}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
        - name: web
          image: nginx:1.27
          ports: [{containerPort: 8080}]
          env: [{name: MODE, value: "{mode}"}]
"""

_FLAGS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: flags, namespace: shop, labels: {app: web}}
data: {colour: blue, size: m}
"""
_FLAGS_OWNER = """
apiVersion: v1
kind: ConfigMap
metadata: {name: flags, namespace: shop, labels: {owner: ops}}
"""
_WIDGETS = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  versions:
    - name: v1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer, description: How big the widget is.}
                colour: {type: string, enum: [red, blue]}
"""
_WIDGET = """
apiVersion: example.com/v1
kind: Widget
metadata: {name: small, namespace: shop}
spec: {size: 1, colour: red}
"""

_REMOVE_A = '[{"op":"remove","path":"/data/a"}]'
# kubectl's steps, in order (`{manifest}` is the file above; `{manifest2}` changes it;
# `{flags}` and `{flags-owner}` are applied server-side by two managers).
KUBECTL_STEPS: tuple[tuple[str, ...], ...] = (
    ("version", "-o", "json"),
    ("create", "namespace", NAMESPACE),
    ("get", "namespaces", NAMESPACE),
    # Early: kube-apiserver establishes a CRD a moment after it is made, and the answers to
    # the steps before the Widget's would otherwise depend on how long that moment was.
    ("apply", "-f", "{widgets}"),
    ("-n", NAMESPACE, "create", "configmap", "settings", "--from-literal=colour=blue"),
    ("-n", NAMESPACE, "create", "configmap", "settings", "--from-literal=colour=blue"),
    ("-n", NAMESPACE, "get", "configmap", "settings", "-o", "yaml"),
    ("-n", NAMESPACE, "get", "configmap", "absent"),
    ("-n", NAMESPACE, "label", "configmap", "settings", "tier=web"),
    ("-n", NAMESPACE, "annotate", "configmap", "settings", "owner=ops"),
    ("-n", NAMESPACE, "patch", "configmap", "settings", "--type=merge", "-p", '{"data":{"a":"1"}}'),
    ("-n", NAMESPACE, "patch", "configmap", "settings", "--type=json", "-p", _REMOVE_A),
    ("-n", NAMESPACE, "get", "configmaps", "-l", "tier=web"),
    ("-n", NAMESPACE, "create", "secret", "generic", "token", "--from-literal=key=value"),
    ("-n", NAMESPACE, "get", "secrets"),
    ("apply", "-f", "{manifest}"),
    ("-n", NAMESPACE, "get", "deployment", "web", "-o", "json"),
    ("-n", NAMESPACE, "get", "services,serviceaccounts", "-o", "wide"),
    ("-n", NAMESPACE, "scale", "deployment", "web", "--replicas=2"),
    ("-n", NAMESPACE, "set", "env", "deployment/web", "LEVEL=debug"),
    ("apply", "-f", "{manifest2}"),
    ("-n", NAMESPACE, "patch", "deployment", "web", "-p", '{"spec":{"minReadySeconds":5}}'),
    ("-n", NAMESPACE, "describe", "service", "web"),
    ("apply", "--server-side", "-f", "{flags}"),
    ("-n", NAMESPACE, "patch", "configmap", "flags", "--type=merge", "-p", '{"data":{"size":"l"}}'),
    ("apply", "--server-side", "-f", "{flags}"),  # 409: kubectl-patch owns data.size now
    ("apply", "--server-side", "--force-conflicts", "-f", "{flags}"),
    ("apply", "--server-side", "--field-manager=ops", "-f", "{flags-owner}"),
    ("-n", NAMESPACE, "get", "configmap", "flags", "-o", "yaml", "--show-managed-fields"),
    ("apply", "--server-side", "--force-conflicts", "-f", "{manifest2}"),
    ("wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=30s"),
    ("apply", "-f", "{widget}"),
    ("-n", NAMESPACE, "get", "widgets", "-o", "yaml"),
    ("explain", "widgets.spec"),
    ("-n", NAMESPACE, "delete", "widget", "small"),
    ("delete", "crd", "widgets.example.com", "--wait=false"),
    ("-n", NAMESPACE, "create", "configmap", "Not_A_Name", "--from-literal=a=b"),
    ("auth", "can-i", "create", "deployments", "-n", NAMESPACE),
    ("-n", NAMESPACE, "delete", "configmap", "settings"),
    ("-n", NAMESPACE, "delete", "configmap", "settings"),
    ("-n", NAMESPACE, "delete", "secret", "token"),
)


class RecordingError(SimulatorError):
    """A program of the user corpus could not run at all (not: a step it was meant to fail)."""


def _fresh_api() -> ApiServer:
    api = ApiServer(ObjectStore(VirtualClock(datetime.now(UTC), speed=1.0)))
    api.start()
    return api


def _kubectl(api: ApiServer, folder: Path) -> None:
    kubeconfig = api.write_kubeconfig(folder / "kubeconfig")
    manifests = {
        "{manifest}": _MANIFEST.replace("{mode}", "quiet"),
        "{manifest2}": _MANIFEST.replace("{mode}", "loud"),
        "{flags}": _FLAGS,
        "{flags-owner}": _FLAGS_OWNER,
        "{widgets}": _WIDGETS,
        "{widget}": _WIDGET,
    }
    for placeholder, text in manifests.items():
        (folder / placeholder.strip("{}")).with_suffix(".yaml").write_text(text)
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(folder)}
    for step in KUBECTL_STEPS:
        argv = [str(folder / f"{a.strip('{}')}.yaml") if a in manifests else a for a in step]
        try:
            subprocess.run(
                [str(_KUBECTL), "--cache-dir", str(folder / "cache"), *argv],
                env=env,
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RecordingError(f"kubectl {' '.join(step)}: {exc}") from exc


def _client(api: ApiServer, folder: Path) -> None:
    from simulator.fidelity.client_steps import official_client_steps

    official_client_steps(api.write_kubeconfig(folder / "kubeconfig"))


def _helm(helm: Path) -> Callable[[ApiServer, Path], None]:
    def run(api: ApiServer, folder: Path) -> None:
        kubeconfig = api.write_kubeconfig(folder / "kubeconfig")
        env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "HOME": str(folder),
            "HELM_CACHE_HOME": str(folder / "helm-cache"),
            "HELM_CONFIG_HOME": str(folder / "helm-config"),
            "HELM_DATA_HOME": str(folder / "helm-data"),
        }
        chart = str(folder / "demo")
        steps: Sequence[Sequence[str]] = (
            ("create", chart),
            ("install", "demo", chart, "-n", "charts", "--create-namespace"),
            ("list", "-n", "charts"),
            ("upgrade", "demo", chart, "-n", "charts", "--set", "replicaCount=2"),
            ("status", "demo", "-n", "charts"),
            ("history", "demo", "-n", "charts"),
            ("uninstall", "demo", "-n", "charts"),
        )
        for step in steps:
            try:
                subprocess.run(
                    [str(helm), *step], env=env, capture_output=True, timeout=120, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise RecordingError(f"helm {' '.join(step)}: {exc}") from exc

    return run


def _recorded(
    source: str, actor: str, play: Callable[[ApiServer, Path], None]
) -> list[CorpusRequest]:
    api = _fresh_api()
    try:
        with tempfile.TemporaryDirectory(prefix=f"appliance-sim-fidelity-{source}-") as folder:
            play(api, Path(folder))
    finally:
        api.stop()
    return from_log(api.request_log, source=source, actor=actor)


def record_users(helm: Path | None = None) -> list[CorpusRequest]:
    """kubectl's, the official client's and (when `helm` is given or on PATH) helm's requests."""
    out = _recorded("kubectl", "kubectl", _kubectl)
    out += _recorded("client", "kubernetes (Python)", _client)
    found = helm or (Path(p) if (p := shutil.which("helm")) else None)
    if found is not None:
        out += _recorded("helm", "helm", _helm(found))
    return out
