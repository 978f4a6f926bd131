"""A fake `flux` CLI (`python -m simulator.neighbours.fluxctl`): install, reconcile, version.

It talks to the Kubernetes API named by the kubeconfig over plain HTTP (http.client), exactly as
the real CLI does through client-go, so it works against the fake API and a real cluster alike:
`flux install` applies the Flux CRDs, namespace and controller Deployments (server-side apply);
`flux reconcile ...` sets `reconcile.fluxcd.io/requestedAt` (and `forceAt` with --force) and
waits for the controller to report `status.lastHandledReconcileAt`.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import ssl
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from simulator.errors import SimulatorError
from simulator.neighbours import cli_yaml, clock_client
from simulator.neighbours.api_connection import ApiConnection, ApiResponse
from simulator.neighbours.flux_crds import FLUX_CRDS, FLUX_VERSION, flux_path, resource_path

TYPE_CHECKING = False  # typing only for mypy, which reads this as true
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = ["CONTROLLERS", "FLUX_VERSION", "FluxCliError", "flux_install_objects", "main"]

CONTROLLERS = {
    "source-controller": "v1.4.1",
    "kustomize-controller": "v1.4.0",
    "helm-controller": "v1.1.0",
    "notification-controller": "v1.4.0",
}
# `flux reconcile <kind>` words -> Kind
_RECONCILE_KINDS = {
    "helmrelease": "HelmRelease",
    "kustomization": "Kustomization",
    "git": "GitRepository",
    "helm": "HelmRepository",
    "chart": "HelmChart",
    "oci": "OCIRepository",
    "bucket": "Bucket",
}
_DEPLOYMENT_API = "apps/v1"  # of the controllers' Deployments
_SOURCE_KINDS = frozenset(
    ("GitRepository", "HelmRepository", "HelmChart", "OCIRepository", "Bucket")
)


# A world whose cluster runs the real Flux controllers (simulator.controlplane) names their own
# CRD files here (os.pathsep-separated): `flux install` then applies those instead of schemaless
# stand-ins, so the API server validates Flux objects as a real installation does.
CRD_FILES_ENV = "SIM_FLUX_CRD_FILES"
# What every controller may do beside its own kinds (the real `flux install`'s crd-controller
# role): read sources' secrets and config, record Events, hold leader Leases.
_CONTROLLER_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": [
            f"{g}.toolkit.fluxcd.io"
            for g in ("source", "kustomize", "helm", "notification", "image")
        ],
        "resources": ["*"],
        "verbs": ["*"],
    },
    {
        "apiGroups": [""],
        "resources": ["namespaces", "secrets", "configmaps", "serviceaccounts"],
        "verbs": ["get", "list", "watch"],
    },
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]},
    {
        "apiGroups": [""],
        "resources": ["configmaps", "configmaps/status"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["*"]},
]


class FluxCliError(SimulatorError):
    """A failure the CLI reports as `✗ <message>` before exiting 1."""

    exit_code: ClassVar[int] = 1  # the real tool's code for any failure


# -- manifests ---------------------------------------------------------------------------------
def _labels(component: str | None = None) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/instance": "flux-system",
        "app.kubernetes.io/part-of": "flux",
        "app.kubernetes.io/version": FLUX_VERSION,
    }
    if component:
        labels["app.kubernetes.io/component"] = component
    return labels


def _deployment(namespace: str, name: str, version: str) -> dict[str, Any]:
    return {
        "apiVersion": _DEPLOYMENT_API,
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "serviceAccountName": name,
                    "containers": [
                        {
                            "name": "manager",
                            "image": f"ghcr.io/fluxcd/{name}:{version}",
                            "ports": [{"containerPort": 9440, "name": "healthz"}],
                        }
                    ],
                },
            },
        },
    }


def _crds() -> list[dict[str, Any]]:
    """The controllers' own CRDs when the world names them, else schemaless stand-ins."""
    files = [f for f in os.environ.get(CRD_FILES_ENV, "").split(os.pathsep) if f]
    if not files:
        return [dict(crd) for crd in FLUX_CRDS]
    crds: list[dict[str, Any]] = []
    for file in files:
        crds += [d for d in cli_yaml.load_all(Path(file).read_text(encoding="utf-8")) if d]
    return crds


def flux_install_objects(namespace: str = "flux-system") -> list[dict[str, Any]]:
    """What `flux install` applies, in order: namespace, CRDs, RBAC, controllers."""
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": _labels()},
        }
    ]
    objects += _crds()
    objects += [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace, "labels": _labels(name)},
        }
        for name in CONTROLLERS
    ]
    objects.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "crd-controller-flux-system", "labels": _labels()},
            "rules": _CONTROLLER_RULES,
        }
    )
    objects.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "crd-controller-flux-system", "labels": _labels()},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "crd-controller-flux-system",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": name, "namespace": namespace}
                for name in CONTROLLERS
            ],
        }
    )
    objects.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "cluster-reconciler-flux-system", "labels": _labels()},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [
                {"kind": "ServiceAccount", "name": "kustomize-controller", "namespace": namespace},
                {"kind": "ServiceAccount", "name": "helm-controller", "namespace": namespace},
            ],
        }
    )
    objects += [_deployment(namespace, name, version) for name, version in CONTROLLERS.items()]
    return objects


# -- the API client ----------------------------------------------------------------------------
@contextmanager
def _client(args: argparse.Namespace) -> Iterator[ApiConnection]:
    path = _kubeconfig_path(args)
    if not path.exists():
        raise FluxCliError(f"kubeconfig {path} not found: use --kubeconfig or set KUBECONFIG")
    doc = cli_yaml.load(path.read_text()) or {}
    context_name = args.context or doc.get("current-context")
    contexts = {c["name"]: c.get("context") or {} for c in doc.get("contexts") or []}
    context = contexts.get(context_name)
    if context is None:
        raise FluxCliError(f'context "{context_name}" does not exist in {path}')
    cluster = {c["name"]: c.get("cluster") or {} for c in doc.get("clusters") or []}.get(
        context.get("cluster"), {}
    )
    user = {u["name"]: u.get("user") or {} for u in doc.get("users") or []}.get(
        context.get("user"), {}
    )
    import tempfile  # for the certificates: only the commands that connect need it

    with tempfile.TemporaryDirectory(prefix="flux-") as tmp:
        # One SSL context for the CA and the client certificate. The machine's default CA store
        # is loaded only where it is used: parsing it is a fifth of a `flux install`'s CPU.
        if cluster.get("insecure-skip-tls-verify", False):
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif cluster.get("certificate-authority-data"):
            ca = Path(tmp) / "ca.crt"
            ca.write_bytes(base64.b64decode(cluster["certificate-authority-data"]))
            context = ssl.create_default_context(cafile=str(ca))
        elif cluster.get("certificate-authority"):
            context = ssl.create_default_context(cafile=str(cluster["certificate-authority"]))
        else:
            context = ssl.create_default_context()
        if user.get("client-certificate-data") and user.get("client-key-data"):
            crt, key = Path(tmp) / "client.crt", Path(tmp) / "client.key"
            crt.write_bytes(base64.b64decode(user["client-certificate-data"]))
            key.write_bytes(base64.b64decode(user["client-key-data"]))
            context.load_cert_chain(str(crt), str(key))
        headers = {"User-Agent": f"flux/{FLUX_VERSION}"}
        if user.get("token"):
            headers["Authorization"] = f"Bearer {user['token']}"
        client = ApiConnection(str(cluster.get("server", "")), headers, context)
        try:
            yield client
        finally:
            client.close()


def _kubeconfig_path(args: argparse.Namespace) -> Path:
    if args.kubeconfig:
        return Path(args.kubeconfig)
    env = os.environ.get("KUBECONFIG")
    if env:
        return Path(env.split(os.pathsep)[0])
    return Path.home() / ".kube" / "config"


def _check(response: ApiResponse, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            message = response.json().get("message", response.text)
        except ValueError:
            message = response.text
        raise FluxCliError(f"{what}: {message}")
    body = response.json()
    return body if isinstance(body, dict) else {}


def _apply(client: ApiConnection, obj: dict[str, Any]) -> str:
    """Server-side apply, as the real CLI does; returns `created` or `configured`."""
    meta = obj["metadata"]
    path = resource_path(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
    existed = client.get(path).status_code == 200
    response = client.patch(
        path,
        params={"fieldManager": "flux", "force": "true"},
        content=cli_yaml.dump(obj).encode(),
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    if response.status_code in (404, 415) and not existed:
        # An API server without apply-on-create: create instead.
        collection = resource_path(obj["apiVersion"], obj["kind"], meta.get("namespace"))
        response = client.post(collection, obj)
    _check(response, f"{obj['kind']}/{meta['name']} apply failed")
    return "configured" if existed else "created"


# -- commands ----------------------------------------------------------------------------------
def _install(args: argparse.Namespace) -> int:
    print("✚ generating manifests")
    objects = flux_install_objects(args.namespace)
    print("✔ manifests build completed")
    print(f"► installing components in {args.namespace} namespace")
    deadline = clock_client.now() + args.timeout
    with _client(args) as client:
        for obj in objects:
            meta = obj["metadata"]
            name = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
            print(f"{obj['kind']}/{name} {_apply(client, obj)}")
        print("◎ verifying installation")
        for name in CONTROLLERS:
            path = resource_path(_DEPLOYMENT_API, "Deployment", args.namespace, name)
            while True:
                status = _check(client.get(path), f"deployment {name}").get("status") or {}
                if (status.get("readyReplicas") or 0) >= 1:
                    print(f"✔ {name}: deployment ready")
                    break
                if clock_client.now() >= deadline:
                    raise FluxCliError(
                        f"install failed: timeout waiting for: [Deployment/{args.namespace}/"
                        f"{name} status: 'InProgress']"
                    )
                clock_client.poll_pause()
    print("✔ install finished")
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    kind = _RECONCILE_KINDS[args.kind]
    with _client(args) as client:
        path = flux_path(kind, args.namespace, args.name)
        obj = _check(client.get(path), f"{kind} '{args.namespace}/{args.name}' not found")
        if (obj.get("spec") or {}).get("suspend"):
            raise FluxCliError("resource is suspended")
        deadline = clock_client.now() + args.timeout
        if args.with_source:
            source = _source_of(kind, obj, args.namespace)
            if source is not None:
                s_kind, s_ns, s_name = source
                s_path = flux_path(s_kind, s_ns, s_name)
                print(f"► annotating {s_kind} {s_name} in {s_ns} namespace")
                token = _annotate(client, s_path, force=False)
                print(f"✔ {s_kind} annotated")
                print(f"◎ waiting for {s_kind} reconciliation")
                done = _wait_handled(client, s_path, token, deadline, what=s_kind)
                revision = ((done.get("status") or {}).get("artifact") or {}).get("revision", "")
                print(f"✔ fetched revision {revision}")
        print(f"► annotating {kind} {args.name} in {args.namespace} namespace")
        token = _annotate(client, path, force=args.force, reset=args.reset)
        print(f"✔ {kind} annotated")
        print(f"◎ waiting for {kind} reconciliation")
        done = _wait_handled(client, path, token, deadline, what=kind)
    status = done.get("status") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    if ready is not None and ready.get("status") == "False":
        raise FluxCliError(f"{kind} reconciliation failed: {ready.get('message', '')}")
    revision = status.get("lastAppliedRevision") or status.get("lastAttemptedRevision") or ""
    if not revision:
        history = status.get("history") or [{}]
        revision = history[0].get("chartVersion", "")
    print(f"✔ applied revision {revision}")
    return 0


def _source_of(kind: str, obj: dict[str, Any], namespace: str) -> tuple[str, str, str] | None:
    spec = obj.get("spec") or {}
    if kind == "HelmRelease":
        ref = ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef") or spec.get("chartRef")
    elif kind == "Kustomization":
        ref = spec.get("sourceRef")
    else:
        return None
    if not ref or ref.get("kind") not in _SOURCE_KINDS:
        return None
    return ref["kind"], ref.get("namespace") or namespace, ref["name"]


def _annotate(client: ApiConnection, path: str, *, force: bool, reset: bool = False) -> str:
    token = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    annotations = {"reconcile.fluxcd.io/requestedAt": token}
    if force:
        annotations["reconcile.fluxcd.io/forceAt"] = token
    if reset:
        annotations["reconcile.fluxcd.io/resetAt"] = token
    response = client.patch(
        path,
        document={"metadata": {"annotations": annotations}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    _check(response, "annotating failed")
    return token


def _wait_handled(
    client: ApiConnection, path: str, token: str, deadline: float, *, what: str
) -> dict[str, Any]:
    while True:
        obj = _check(client.get(path), f"{what} reconciliation")
        if (obj.get("status") or {}).get("lastHandledReconcileAt") == token:
            return obj
        if clock_client.now() >= deadline:
            raise FluxCliError(f"{what} reconciliation failed: timeout waiting for condition")
        clock_client.poll_pause()


def _version(args: argparse.Namespace) -> int:
    print(f"flux: {FLUX_VERSION}")
    if args.client:
        return 0
    with _client(args) as client:
        print(f"distribution: flux-{FLUX_VERSION}")
        for name in CONTROLLERS:
            response = client.get(
                resource_path(_DEPLOYMENT_API, "Deployment", args.namespace, name)
            )
            if response.status_code != 200:
                continue
            containers = response.json()["spec"]["template"]["spec"]["containers"]
            print(f"{name}: {containers[0]['image'].rsplit(':', 1)[-1]}")
    return 0


def _duration(text: str) -> float:
    total, number = 0.0, ""
    for char in text:
        if char.isdigit() or char == ".":
            number += char
        elif char in "hms" and number:
            total += float(number) * {"h": 3600, "m": 60, "s": 1}[char]
            number = ""
        else:
            raise argparse.ArgumentTypeError(f'invalid duration "{text}"')
    if number:
        raise argparse.ArgumentTypeError(f'invalid duration "{text}": missing unit')
    return total


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        self.exit(1, f"✗ {message}\n")


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--kubeconfig")
    common.add_argument("--context")
    common.add_argument("-n", "--namespace", default="flux-system")
    common.add_argument("--timeout", type=_duration, default=300.0)
    parser = _Parser(prog="flux")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    install = sub.add_parser("install", parents=[common])
    install.add_argument("--components")
    install.add_argument("--components-extra")
    install.set_defaults(handler=_install)
    version = sub.add_parser("version", parents=[common])
    version.add_argument("--client", action="store_true")
    version.set_defaults(handler=_version)
    reconcile = sub.add_parser("reconcile").add_subparsers(
        dest="what", required=True, parser_class=_Parser
    )
    for word in ("helmrelease", "hr", "kustomization", "ks"):
        cmd = reconcile.add_parser(word, parents=[common])
        cmd.add_argument("name")
        cmd.add_argument("--with-source", action="store_true")
        cmd.add_argument("--force", action="store_true")
        cmd.add_argument("--reset", action="store_true")
        cmd.set_defaults(
            handler=_reconcile,
            kind="helmrelease" if word in ("hr", "helmrelease") else "kustomization",
        )
    source = reconcile.add_parser("source").add_subparsers(
        dest="source", required=True, parser_class=_Parser
    )
    for word in ("git", "helm", "chart", "oci", "bucket"):
        cmd = source.add_parser(word, parents=[common])
        cmd.add_argument("name")
        cmd.set_defaults(handler=_reconcile, kind=word, with_source=False, force=False, reset=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one flux command; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except FluxCliError as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return exc.exit_code
    except (OSError, http.client.HTTPException) as exc:
        print(f"✗ {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
