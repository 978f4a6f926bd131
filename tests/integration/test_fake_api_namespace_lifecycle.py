"""Issue 12, gap 1: a deleted namespace terminates, empties and goes, and stays gone.

Deleting a namespace that holds a running Deployment marks it Terminating while its content is
deleted; the simulated kubelet's `Killing` events (world writes) must not bring it back. Creates
into a terminating namespace get the NamespaceLifecycle 403, into a missing one a 404.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.integration.served_world import served_world, wait_for


def _phase(core: client.CoreV1Api, name: str) -> str | None:
    try:
        return str(core.read_namespace(name).status.phase)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def test_deleting_a_namespace_with_a_running_deployment_removes_it_for_good(
    tmp_path: Path,
) -> None:
    """Terminating, then NotFound; pods gone; no write of the world re-creates it."""
    with served_world(tmp_path) as (world, api):
        core = client.CoreV1Api(api.client())
        wait_for(
            lambda: (
                len(world.pods("shop")) == 2
                and all(
                    world.ready("Pod", p["metadata"]["name"], "shop") for p in world.pods("shop")
                )
            ),
            what="two running web pods",
        )
        # The API answers with the Namespace, now Terminating (the client, expecting a Status,
        # hands it over as a dict).
        deleted = core.delete_namespace("shop")
        assert deleted["status"]["phase"] == "Terminating"
        wait_for(lambda: _phase(core, "shop") is None, what="the namespace to go")
        time.sleep(1.0)  # a minute of virtual time: controllers and kubelet react meanwhile
        assert _phase(core, "shop") is None
        assert core.list_namespaced_pod("shop").items == []
        with pytest.raises(ApiException) as missing:
            core.create_namespaced_config_map("shop", {"metadata": {"name": "late"}})
        assert missing.value.status == 404
        assert (
            '"namespaces \\"shop\\" not found"' in missing.value.body
            or "not found" in missing.value.body
        )


def test_creates_into_a_terminating_namespace_are_refused_with_the_admission_cause(
    tmp_path: Path,
) -> None:
    """A finalizer keeps the namespace Terminating; a create then is a 403 NamespaceTerminating,
    for the API's clients and the world's own writes alike."""
    with served_world(tmp_path) as (world, api):
        core = client.CoreV1Api(api.client())
        core.create_namespaced_config_map(
            "shop",
            {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}},
        )
        core.delete_namespace("shop")
        assert _phase(core, "shop") == "Terminating"
        with pytest.raises(ApiException) as refused:
            core.create_namespaced_config_map("shop", {"metadata": {"name": "new"}})
        assert refused.value.status == 403
        body = refused.value.body
        assert (
            'configmaps \\"new\\" is forbidden: unable to create new content in namespace shop '
            "because it is being terminated" in body
        )
        assert '"reason":"NamespaceTerminating"' in body.replace(" ", "")
        from simulator.api.store import ForbiddenError

        with pytest.raises(ForbiddenError):
            world.store.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "w", "namespace": "shop"},
                }
            )
        core.patch_namespaced_config_map("held", "shop", {"metadata": {"finalizers": None}})
        wait_for(lambda: _phase(core, "shop") is None, what="the namespace to go")


def test_kubectl_delete_namespace_waits_until_it_is_gone(tmp_path: Path) -> None:
    """`kubectl delete namespace` (which waits by default) returns once the namespace is gone."""
    with served_world(tmp_path) as (world, api):
        wait_for(lambda: len(world.pods("shop")) == 2, what="web pods")
        result = api.kubectl("delete", "namespace", "shop", "--timeout=20s")
        assert 'namespace "shop" deleted' in result.stdout
        missing = api.kubectl("get", "namespace", "shop", check=False)
        assert missing.returncode == 1
        assert 'namespaces "shop" not found' in missing.stderr
