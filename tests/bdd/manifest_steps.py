"""Steps that read our own manifests as Kubernetes would receive them (`kubectl kustomize`).

These prove the "prevented" half of a finding where our manifests carry the fix: the Postgres
subPath init container, the bootstrap Job waiting for Postgres, Temporal autosetup, service links
off, the Flux dependsOn chain, and the status service's read-only ClusterRole.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from pytest_bdd import given, parsers, then

__all__ = ["kustomize"]

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = Path(sys.executable).parent / "kubectl"
Obj = dict[str, Any]


def kustomize(directory: Path) -> list[Obj]:
    """The objects `kubectl kustomize DIR` renders, as the API server would receive them."""
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed: {result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _find(objects: list[Obj], kind: str, name: str) -> Obj:
    for obj in objects:
        if obj.get("kind") == kind and obj.get("metadata", {}).get("name") == name:
            return obj
    present = sorted(f"{o.get('kind')}/{o.get('metadata', {}).get('name')}" for o in objects)
    raise AssertionError(f"no {kind} {name!r} in our manifests; found {present}")


def _pod_spec(workload: Obj) -> Obj:
    spec: Obj = workload["spec"]["template"]["spec"]
    return spec


def _command(container: Obj) -> str:
    return shlex.join([*container.get("command", []), *container.get("args", [])])


@given(parsers.parse('our "{name}" manifests'), target_fixture="manifests")
def our_manifests(name: str) -> list[Obj]:
    """The kustomize directory appliance/manifests/<name>, rendered."""
    return kustomize(ROOT / "appliance" / "manifests" / name)


@given(
    parsers.parse('the Flux objects our bootstrapper submits for release "{version}"'),
    target_fixture="manifests",
)
def flux_objects(version: str) -> list[Obj]:
    """The GitRepository and Kustomizations the Platform phase applies."""
    from appliance.bootstrap.gitsource import GitSource
    from appliance.bootstrap.platform import flux_sync_objects
    from appliance.releases import load_release

    source = GitSource(
        repo_url="https://github.com/nine-minds/alga-psa",
        branch=f"release/{version}",
        path="./appliance/manifests",
        mode="explicit",
        remote_revision=None,
    )
    return flux_sync_objects(source, load_release(version))


@then(
    parsers.parse('the StatefulSet "{name}" has an init container whose command contains "{text}"'),
    target_fixture="init_container",
)
def init_container_runs(manifests: list[Obj], name: str, text: str) -> Obj:
    spec = _pod_spec(_find(manifests, "StatefulSet", name))
    for container in spec.get("initContainers", []):
        if text in _command(container):
            found: Obj = container
            return found
    raise AssertionError(f"no init container of StatefulSet {name} runs {text!r}")


@then(parsers.parse('that init container mounts the volume that "{container}" mounts at a subPath'))
def init_prepares_subpath(manifests: list[Obj], init_container: Obj, container: str) -> None:
    """The init container creates <its mountPath>/<subPath> on the very volume Postgres uses."""
    statefulset = next(o for o in manifests if o.get("kind") == "StatefulSet")
    spec = _pod_spec(statefulset)
    main = next(c for c in spec["containers"] if c["name"] == container)
    sub_mounts = [m for m in main.get("volumeMounts", []) if m.get("subPath")]
    assert sub_mounts, f"{container} mounts nothing at a subPath"
    init_mounts = {m["name"]: m["mountPath"] for m in init_container.get("volumeMounts", [])}
    command = _command(init_container)
    for mount in sub_mounts:
        assert mount["name"] in init_mounts, f"init container does not mount {mount['name']}"
        target = f"{init_mounts[mount['name']].rstrip('/')}/{mount['subPath']}"
        assert target in command, f"init container never creates {target}: {command}"


@then(parsers.parse('the bootstrap Job waits for Postgres with "{probe}" before migrating'))
def job_waits_for_postgres(manifests: list[Obj], probe: str) -> None:
    jobs = [o for o in manifests if o.get("kind") == "Job"]
    assert jobs, "our core manifests hold no bootstrap Job"
    spec = _pod_spec(jobs[0])
    waits = [c for c in spec.get("initContainers", []) if probe in _command(c)]
    assert waits, f"no init container of Job {jobs[0]['metadata']['name']} waits with {probe}"
    assert "until" in _command(waits[0]) or "while" in _command(waits[0]), (
        "it must loop, not try once"
    )


@then(parsers.parse('the Deployment "{name}" runs a command containing "{text}"'))
def deployment_command(manifests: list[Obj], name: str, text: str) -> None:
    spec = _pod_spec(_find(manifests, "Deployment", name))
    commands = [_command(c) for c in spec["containers"]]
    assert any(text in c for c in commands), f"{name} runs {commands}"


@then(parsers.parse('the Deployment "{name}" sets enableServiceLinks to false'))
def deployment_no_service_links(manifests: list[Obj], name: str) -> None:
    spec = _pod_spec(_find(manifests, "Deployment", name))
    assert spec.get("enableServiceLinks") is False, f"{name}: enableServiceLinks is not false"


@then(parsers.parse('the Kustomization "{name}" depends on "{other}"'))
def kustomization_depends(manifests: list[Obj], name: str, other: str) -> None:
    spec = _find(manifests, "Kustomization", name)["spec"]
    names = [d["name"] for d in spec.get("dependsOn", [])]
    assert names == [other], f"{name} dependsOn {names}"


@then(parsers.parse('the Kustomization "{name}" depends on nothing'))
def kustomization_root(manifests: list[Obj], name: str) -> None:
    spec = _find(manifests, "Kustomization", name)["spec"]
    assert not spec.get("dependsOn"), f"{name} dependsOn {spec.get('dependsOn')}"


READ_VERBS = {"get", "list", "watch"}


@then(parsers.parse('the ClusterRole "{name}" grants only the verbs get, list and watch'))
def clusterrole_read_only(manifests: list[Obj], name: str) -> None:
    rules = _find(manifests, "ClusterRole", name).get("rules", [])
    assert rules, f"ClusterRole {name} grants nothing at all"
    verbs = {verb for rule in rules for verb in rule.get("verbs", [])}
    assert verbs <= READ_VERBS, f"ClusterRole {name} grants {sorted(verbs - READ_VERBS)}"


@then(parsers.parse('the ClusterRole "{name}" grants nothing on "{resource}"'))
def clusterrole_no_resource(manifests: list[Obj], name: str, resource: str) -> None:
    for rule in _find(manifests, "ClusterRole", name).get("rules", []):
        resources = rule.get("resources", [])
        assert resource not in resources, f"ClusterRole {name} grants {rule}"
        assert "*" not in resources, f"ClusterRole {name} grants every resource: {rule}"
