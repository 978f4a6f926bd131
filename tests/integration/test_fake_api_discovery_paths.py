"""Issue 12, gap 2: discovery answers with and without a trailing slash, as kube-apiserver does.

The official client asks `/version/`, `/api/` and `/apis/` (kr8s too); a 404 there breaks them.
"""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from tests.integration.served_world import raw_http, served_world


def test_the_official_client_reads_version_and_api_groups(tmp_path: Path) -> None:
    """VersionApi.get_code (`/version/`), Core/ApisApi.get_api_versions (`/api/`, `/apis/`)."""
    with served_world(tmp_path) as (_world, api):
        api_client = api.client()
        version = client.VersionApi(api_client).get_code()
        assert version.git_version.startswith("v1.")
        assert client.CoreApi(api_client).get_api_versions().versions == ["v1"]
        groups = {g.name for g in client.ApisApi(api_client).get_api_versions().groups}
        assert {"apps", "batch", "rbac.authorization.k8s.io"} <= groups


def test_every_discovery_document_is_the_same_with_a_trailing_slash(tmp_path: Path) -> None:
    """`/apis/apps/` and `/apis/apps/v1/` are the documents without the slash."""
    with served_world(tmp_path) as (_world, api), raw_http(api) as http:
        for path in ("/version", "/api", "/apis", "/api/v1", "/apis/apps", "/apis/apps/v1"):
            plain, slashed = http.get(path), http.get(path + "/")
            assert (plain.status_code, slashed.status_code) == (200, 200), path
            assert plain.json() == slashed.json(), path
