"""The official Python client's part of the user corpus: typed calls as a program makes them.

Create, read, replace with a stale resourceVersion (409), the three patch types, paging with
`limit`/`continue`, a label- and a field-selected list, a watch from a list's version, a dry-run
create, a server-side apply, the scale and status subresources, a TokenRequest, a
SelfSubjectAccessReview, a delete
with a uid precondition, and the refusals (404, 409 AlreadyExists, 422 Invalid). Every call that
is meant to be refused is expected to raise `ApiException`; the answers are what the corpus keeps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

__all__ = ["official_client_steps"]

NAMESPACE = "clients"


@contextlib.contextmanager
def _refused() -> Iterator[None]:
    with contextlib.suppress(ApiException):
        yield


def _deployment() -> dict[str, Any]:
    labels = {"app": "worker"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "worker", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "worker", "image": "busybox:1.36"}]},
            },
        },
    }


def official_client_steps(kubeconfig: Path) -> None:
    """Run the steps with a client made from `kubeconfig` (exceptions other than the expected
    refusals propagate: the corpus would be incomplete)."""
    # The client accepts plain dicts as bodies, as a program written against it often passes;
    # its typed signatures want models, so it is driven untyped here.
    new_client: Any = config.new_client_from_config
    api_client = new_client(config_file=str(kubeconfig))
    try:
        _steps(api_client)
    finally:
        api_client.close()


def _steps(api_client: Any) -> None:
    core: Any = client.CoreV1Api(api_client)
    apps: Any = client.AppsV1Api(api_client)
    authorization: Any = client.AuthorizationV1Api(api_client)
    watch_class: Any = watch.Watch
    watcher = watch_class()
    ns = NAMESPACE
    core.create_namespace({"metadata": {"name": ns, "labels": {"team": "clients"}}})
    for index in range(3):
        core.create_namespaced_config_map(
            ns,
            {"metadata": {"name": f"page-{index}", "labels": {"set": "pages"}}, "data": {"i": "0"}},
        )
    first = core.list_namespaced_config_map(ns, label_selector="set=pages", limit=2)
    core.list_namespaced_config_map(
        ns, label_selector="set=pages", limit=2, _continue=first.metadata._continue
    )
    page = core.read_namespaced_config_map("page-0", ns)
    stale = page.metadata.resource_version
    page.data = {"i": "1"}
    core.replace_namespaced_config_map("page-0", ns, page)
    page.metadata.resource_version = stale
    with _refused():  # 409 Conflict: the object has been modified
        core.replace_namespaced_config_map("page-0", ns, page)
    core.patch_namespaced_config_map("page-1", ns, {"metadata": {"labels": {"patched": "yes"}}})
    core.patch_namespaced_config_map("page-1", ns, [{"op": "add", "path": "/data/j", "value": "2"}])
    with _refused():  # 422: a JSON patch that tests a value that is not there
        core.patch_namespaced_config_map(
            "page-1", ns, [{"op": "test", "path": "/data/i", "value": "9"}]
        )
    applied = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}}
    for data in ({"a": "1"}, {"b": "2"}):  # server-side apply: create, then drop a field
        core.patch_namespaced_config_map(
            "applied",
            ns,
            {**applied, "data": data},
            field_manager="python",
            _content_type="application/apply-patch+yaml",
        )
    core.create_namespaced_config_map(ns, {"metadata": {"name": "dry"}}, dry_run="All")
    with _refused():  # 404: the dry run stored nothing
        core.read_namespaced_config_map("dry", ns)
    with _refused():  # 409 AlreadyExists
        core.create_namespaced_config_map(ns, {"metadata": {"name": "page-2"}})
    with _refused():  # 422 Invalid: a name that is not a DNS subdomain
        core.create_namespaced_config_map(ns, {"metadata": {"name": "Page_3"}})
    listed = core.list_namespaced_config_map(ns)
    for _event in watcher.stream(
        core.list_namespaced_config_map,
        ns,
        resource_version=listed.metadata.resource_version,
        timeout_seconds=1,
    ):
        pass
    core.list_namespace(label_selector="team=clients")
    core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={ns}")
    apps.create_namespaced_deployment(ns, _deployment())
    apps.read_namespaced_deployment_scale("worker", ns)
    apps.patch_namespaced_deployment_scale("worker", ns, {"spec": {"replicas": 2}})
    apps.patch_namespaced_deployment(
        "worker", ns, {"spec": {"template": {"metadata": {"annotations": {"restart": "1"}}}}}
    )
    core.create_namespaced_service_account(ns, {"metadata": {"name": "robot"}})
    core.create_namespaced_service_account_token("robot", ns, {"spec": {"expirationSeconds": 3600}})
    authorization.create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "list", "resource": "pods", "namespace": ns}}}
    )
    victim = core.read_namespaced_config_map("page-2", ns)
    core.delete_namespaced_config_map(
        "page-2", ns, body={"preconditions": {"uid": victim.metadata.uid}}
    )
    with _refused():  # 404: already gone
        core.delete_namespaced_config_map("page-2", ns)
    apps.delete_namespaced_deployment("worker", ns, propagation_policy="Foreground")
