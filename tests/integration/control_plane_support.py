"""A real control plane for tests: skipped with the reason when its programs are not built.

`./tasks test` builds them first (`python -m simulator.controlplane.binaries build`); CI sets
APPLIANCE_SIM_REQUIRE_CONTROL_PLANE, and a missing program then fails instead of skipping.

Two ways to get one. A module that replays scenarios (test_control_plane*.py) starts its own
with `running_control_plane` (a few seconds warm, about as much CPU): what one module's
scenarios leave never reaches the next. The judges (test_fake_api_vs_apiserver_*.py, whose
fixtures come from `judging_fixtures`) share one per process instead, started by the first
judge module the process runs and stopped as soon as the next test is not a judge's (see
`release_unless_judged`, called from tests/conftest.py), since a lane of tests/scheduling.py
runs several judge modules one after another in one worker.

The sharing rule: each judge module finds the shared plane as a fresh one is, but for other
judge modules' namespaces, and reads nothing in them. So a judge module works in namespaces of
its own (names no other module uses: one still being deleted would refuse the second `kubectl
create namespace`), besides a fresh cluster's (default, kube-system, ...); a listing across all
namespaces is filtered to these; and what it makes elsewhere, `restore` deletes. When the plane
starts (once every controller's ServiceAccount is made), the objects it holds (every kind that
can be listed and deleted, events aside) are noted; when a judge module ends, whatever was made
since is deleted: cluster-scoped objects (CRDs, ClusterRoles, webhook configurations, admission
policies, flow schemas, ...) and objects in a fresh cluster's namespaces, waited for; the
module's namespaces (and ServiceCIDRs) in the background, since they take seconds to go, longer
than a start of the plane. The plane must then hold what it held at its start, but for what is
going, or the module's teardown fails and the plane is stopped (the next judge module starts a
fresh one). So a module's leftovers (a webhook configuration refusing ConfigMaps, a CRD in
`kubectl api-resources`, a RoleBinding in the bootstrap policy's lists) never change another
module's verdicts, whatever the order. What a deletion cannot undo is each module's own to
restore before it ends: an object that was there at the start and that it changed (the `view`
ClusterRole a user's aggregate-to-view role extends, the controllers' ServiceAccounts in
kube-system a test deletes, which it makes again).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.client
import json
import ssl
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from simulator.api import openapi_assets
from simulator.api.controller_accounts import CONTROLLER_NAMESPACE, controller_accounts
from simulator.controlplane.binaries import KUBERNETES_PROGRAMS
from simulator.controlplane.cluster import ControlPlane
from tests.integration.fake_api_harness import Harness, running_api
from tests.tools import programs, short_lived_go

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = str(Path(__import__("sys").executable).parent / "kubectl")


def running_control_plane(
    folder: Path, names: Sequence[str] = KUBERNETES_PROGRAMS
) -> Iterator[ControlPlane]:
    """A started control plane whose state lives in `folder`; its logs are printed on failure."""
    plane = ControlPlane(programs(names), folder=folder)
    with plane:
        yield plane


# (apiVersion, kind, namespace, name) of an object on the shared plane.
Key = tuple[str, str, str, str]
# Written by the controllers all along: nobody's leftovers, and no judge compares them.
_UNTRACKED = frozenset({"events"})  # core's and events.k8s.io's
# Deleted in the background: kinds whose deletion waits seconds on a controller (the namespace
# controller empties a namespace first; kube-controller-manager releases a ServiceCIDR after a
# 10 s check; kube-apiserver's CRD finalizer deletes the instances, polling every 5 s, and
# retries a CRD whose storage still initializes after the others: two minutes, seen once),
# longer than a start of the plane. No judge reads another module's.
_SLOW = frozenset({"Namespace", "ServiceCIDR", "CustomResourceDefinition"})
_METADATA = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


def _namespaces(keys: frozenset[Key]) -> set[str]:
    return {name for _, kind, _, name in keys if kind == "Namespace"}


def _listed(path: Path, keys: Sequence[Key]) -> str:
    """A manifest of the objects `keys` (what `kubectl delete -f` needs of them), at `path`."""
    items = [
        {"apiVersion": version, "kind": kind, "metadata": {"name": name}}
        | ({"metadata": {"name": name, "namespace": namespace}} if namespace else {})
        for version, kind, namespace, name in keys
    ]
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    return str(path)


def _published(objects: frozenset[Key]) -> set[Key]:
    """What kube-controller-manager publishes in each namespace of `objects`."""
    names = _namespaces(objects)
    return {("v1", "ServiceAccount", n, "default") for n in names} | {
        ("v1", "ConfigMap", n, "kube-root-ca.crt") for n in names
    }


class _SharedPlane:
    """The process's judging control plane (started on first use) and what it held then."""

    def __init__(self) -> None:
        self.plane: ControlPlane | None = None
        self.kinds: list[tuple[str, str, str]] = []
        self.found: frozenset[Key] = frozenset()
        self.going: set[Key] = set()  # deleted in the background, maybe not gone yet

    def acquire(self, tmp_path_factory: pytest.TempPathFactory) -> ControlPlane:
        if self.plane is None:
            self.going = set()
            plane = ControlPlane(programs(), folder=tmp_path_factory.mktemp("judge-plane"))
            self.plane = plane.start()
            try:
                self.kinds = self._discover()
                self.found = self._settled()
            except BaseException:
                self.release()
                raise
        return self.plane

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert self.plane is not None
        return kubectl(self.plane.kubeconfig, *args)

    def _get(self, connection: http.client.HTTPSConnection, path: str, accept: str) -> Any:
        connection.request("GET", path, headers={"Accept": accept})
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise AssertionError(
                f"GET {path} on the shared control plane: {answer.status} {body!r}"
            )
        return json.loads(body)

    def _connection(self) -> http.client.HTTPSConnection:
        """The admin's connection: lists made in-process over it cost a tenth of the CPU of
        one `kubectl get` of every kind (half a second a time)."""
        assert self.plane is not None
        pki = self.plane.pki
        context = ssl.create_default_context(cafile=str(pki.ca_file))
        context.load_cert_chain(pki.cert("admin"), pki.key("admin"))
        address = urllib.parse.urlsplit(self.plane.server)
        return http.client.HTTPSConnection(
            address.hostname or "", address.port, context=context, timeout=30
        )

    def _discover(self) -> list[tuple[str, str, str]]:
        """(path, apiVersion, kind) of each kind that can be listed and deleted, in the
        preferred version of its group (as `kubectl api-resources` lists them)."""
        with contextlib.closing(self._connection()) as connection:
            groups = self._get(connection, "/apis", "application/json")["groups"]
            versions = ["v1"] + [group["preferredVersion"]["groupVersion"] for group in groups]
            kinds = []
            for version in versions:
                prefix = "/api/v1" if version == "v1" else f"/apis/{version}"
                for kind in self._get(connection, prefix, "application/json")["resources"]:
                    listed = {"list", "delete"} <= set(kind["verbs"])
                    if listed and "/" not in kind["name"] and kind["name"] not in _UNTRACKED:
                        kinds.append((f"{prefix}/{kind['name']}", version, kind["kind"]))
        return kinds

    def _settled(self) -> frozenset[Key]:
        """The objects once kube-controller-manager has made what it makes at start, each a
        moment after its controller starts: one made later would pass for a module's. That is
        every controller's ServiceAccount and, in every namespace, the `default` ServiceAccount
        and the `kube-root-ca.crt` ConfigMap (on a loaded machine these come seconds late)."""
        accounts = {
            ("v1", "ServiceAccount", CONTROLLER_NAMESPACE, a) for a in controller_accounts()
        }
        deadline = time.monotonic() + 60
        while not (expected := accounts | _published(found := self.objects())) <= found:
            assert time.monotonic() < deadline, f"not made in 60 s: {expected - found}"
            time.sleep(0.2)
        return found

    def objects(self) -> frozenset[Key]:
        """Every object of the kinds, by its metadata alone."""
        keys = set()
        with contextlib.closing(self._connection()) as connection:
            for path, version, kind in self.kinds:
                for item in self._get(connection, path, _METADATA)["items"] or []:
                    meta = item["metadata"]
                    keys.add((version, kind, meta.get("namespace", ""), meta["name"]))
        return frozenset(keys)

    def restore(self, folder: Path) -> None:
        """Delete what was made since the plane started (the slow kinds in the background);
        if what is left then is not what the plane held at its start, but for what is going,
        stop the plane and fail."""
        made = self.objects() - self.found
        namespaces = _namespaces(made)
        # What is in a new namespace goes with it, but pods: one bound to a node (no kubelet
        # here confirms) would hold the namespace for a minute, so they go at once, forced.
        waited = [
            k for k in made if k[1] not in _SLOW and (k[2] not in namespaces or k[1] == "Pod")
        ]
        if waited:
            delete = ("delete", "-f", _listed(folder / "made.json", waited), "--ignore-not-found")
            self.kubectl(*delete, "--wait", "--grace-period=0", "--force", "--timeout=120s")
        # Deleting a namespace twice is refused: each once (and one a test's own teardown
        # deleted may be gone between the listing and this delete).
        if slow := sorted(k for k in made if k[1] in _SLOW and k not in self.going):
            listed = _listed(folder / "slow.json", slow)
            self.kubectl("delete", "-f", listed, "--wait=false", "--ignore-not-found")
            self.going |= set(slow)
        now = self.objects()
        going = _namespaces(frozenset(self.going))
        stray = [
            k
            for k in sorted(now - self.found)
            if k not in self.going and k[2] not in going and not self._of_a_going_crd(k)
        ]
        missing = sorted(self.found - now)
        if stray or missing:
            self.release()
            raise AssertionError(
                f"the shared control plane is not as it started: left {stray}, gone {missing}"
            )

    def _of_a_going_crd(self, key: Key) -> bool:
        """An APIService kube-apiserver made for a CRD's group version (`v1.example.com`): it
        goes when the last CRD of its group has gone."""
        groups = {k[3].split(".", 1)[1] for k in self.going if k[1] == "CustomResourceDefinition"}
        return key[1] == "APIService" and key[3].split(".", 1)[-1] in groups

    def release(self) -> None:
        plane, self.plane = self.plane, None
        if plane is not None:
            plane.stop()


_SHARED = _SharedPlane()
# The `plane` fixtures `judging_fixtures` made: a test whose module holds one is a judge's.
_JUDGING: list[object] = []


def release_unless_judged(nextitem: pytest.Item | None) -> None:
    """Stop the shared plane unless `nextitem` (None: the session ends) judges with it: idle,
    it would still cost CPU while the worker runs other tests."""
    plane = getattr(getattr(nextitem, "module", None), "plane", None)
    if not any(plane is judging for judging in _JUDGING):
        _SHARED.release()


def _openapi_documents() -> None:
    try:
        openapi_assets.build()
    except openapi_assets.OpenApiError as exc:
        pytest.skip(f"the Kubernetes OpenAPI documents could not be fetched: {exc}")


def judging_fixtures(
    prepare: Callable[[], None] = _openapi_documents,
    set_up: Callable[..., object] | None = None,
) -> tuple[Any, Any]:
    """The `plane` and `fake` fixtures of a test_fake_api_vs_apiserver_* module: the shared
    control plane for the module (left as the module found it, see the module docstring), and
    a fresh fake API for each test. `prepare` builds what the fake API needs, or skips both
    with the reason (by default the OpenAPI documents its server-side apply reads field types
    from); `set_up(run)`, if given, makes what the module's tests expect on both servers, run
    being kubectl against one of them."""

    @pytest.fixture(scope="module", name="plane")
    def plane_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
        prepare()
        plane = _SHARED.acquire(tmp_path_factory)
        try:
            if set_up is not None:
                set_up(functools.partial(kubectl, plane.kubeconfig))
            yield plane
        finally:
            _SHARED.restore(tmp_path_factory.mktemp("judge-restore"))

    @pytest.fixture(name="fake")
    def fake_fixture(tmp_path: Path) -> Iterator[Harness]:
        with running_api(tmp_path) as harness:
            if set_up is not None:
                set_up(harness.kubectl)
            yield harness

    _JUDGING.append(plane_fixture)
    return plane_fixture, fake_fixture


# What `kubectl wait --for=condition=...` says, instead of waiting, when it reads an object
# whose conditions are still null: a CRD for the moment after its create, until the
# apiextensions controllers write them (seen once in six suite runs on 2026-11-30).
_NOT_YET_CONDITIONS = ".status.conditions accessor error: <nil> is of the type <nil>"


def kubectl(kubeconfig: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Real kubectl against the control plane (a `wait` that met null conditions, again)."""
    deadline = time.monotonic() + 60
    while True:
        done = subprocess.run(
            [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
            capture_output=True,
            text=True,
            env=short_lived_go(),
            check=False,
            timeout=120,
        )
        retry = args[:1] == ("wait",) and _NOT_YET_CONDITIONS in done.stderr
        if not retry or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if check and done.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr}")
    return done


def said(
    run: Callable[..., subprocess.CompletedProcess[str]],
    steps: Sequence[tuple[str, ...]],
    *,
    namespace: str,
    files: dict[str, Any],
    folder: Path,
    both: bool = False,
) -> list[str]:
    """What kubectl says to each of `steps` in `namespace` (`run` is kubectl against one
    server): `command -> exit code: its stderr, else its stdout` (`both`: its stderr, then its
    stdout, for a kind whose every answer warns). An argument naming one of `files` is that
    object, written as JSON into `folder` (the same path for both servers, since kubectl's
    errors name it)."""
    folder.mkdir(exist_ok=True)
    for name, obj in files.items():
        (folder / name).write_text(json.dumps(obj))
    lines = []
    for step in steps:
        args = [str(folder / a) if a in files else a for a in step]
        done = run("-n", namespace, *args, check=False)
        said_out = (done.stderr.strip(), done.stdout.strip())
        text = "\n".join(filter(None, said_out)) if both else said_out[0] or said_out[1]
        lines.append(f"{' '.join(step)} -> {done.returncode}: {text}")
    return lines


def token_kubeconfig(kubeconfig: Path, token: str, folder: Path) -> Path:
    """A kubeconfig for `kubeconfig`'s server whose only credential is `token` (a client
    certificate beside a token would authenticate first)."""
    config = yaml.safe_load(kubeconfig.read_text())
    config["users"] = [{"name": config["users"][0]["name"], "user": {"token": token}}]
    path = folder / f"token-{hashlib.sha256(token.encode()).hexdigest()[:8]}"
    path.write_text(yaml.safe_dump(config))
    return path
