"""client-go asks for protobuf first and kube-apiserver answers in it for built-in kinds; so does
the fake API (issue 13: `appliance-sim fidelity` found JSON where kubectl and helm got protobuf).
Custom resources stay JSON, as on a real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulator.api.protobuf import PROTOBUF, decode_protobuf_object
from simulator.api.protobuf_answers import encode_protobuf_object
from simulator.neighbours.flux_crds import FLUX_CRDS
from tests.integration.fake_api_harness import running_api
from tests.integration.served_world import raw_http

SAMPLES: list[dict[str, Any]] = [
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "labels": {"a": "b"},
            "creationTimestamp": "2026-01-01T00:00:00Z",
        },
        "spec": {
            "containers": [
                {
                    "name": "c",
                    "image": "x",
                    "resources": {"requests": {"cpu": "100m"}},
                    "livenessProbe": {"httpGet": {"path": "/", "port": "http"}},
                }
            ],
            "volumes": [{"name": "v", "configMap": {"name": "cm", "defaultMode": 420}}],
        },
        "status": {"phase": "Running"},
    },
    {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d", "generation": 2},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"a": "b"}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}},
        },
    },
    {
        "apiVersion": "v1",
        "kind": "SecretList",
        "metadata": {"resourceVersion": "5"},
        "items": [{"metadata": {"name": "s"}, "data": {"k": "dmFsdWU="}, "type": "Opaque"}],
    },
    {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "e"},
        "eventTime": "2026-01-01T00:00:00.123456Z",
        "regarding": {"kind": "Pod", "name": "p"},
        "reason": "Pulled",
    },
    # Fields whose .proto name is not their JSON name (`uID`, `aPIGroup`).
    {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "metadata": {"name": "robot"},
        "spec": {
            "audiences": ["a"],
            "expirationSeconds": 3600,
            "boundObjectRef": {"kind": "Secret", "apiVersion": "v1", "name": "k", "uid": "u-1"},
        },
        "status": {"token": "t", "expirationTimestamp": "2026-01-01T00:00:00Z"},
    },
    {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": "nginx"},
        "spec": {
            "controller": "k8s.io/ingress-nginx",
            "parameters": {"apiGroup": "k8s.example.com", "kind": "Params", "name": "p"},
        },
    },
    {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Failure",
        "message": "m",
        "reason": "NotFound",
        "details": {"name": "a", "kind": "pods"},
        "code": 404,
    },
]


@pytest.mark.parametrize("doc", SAMPLES, ids=[d["kind"] for d in SAMPLES])
def test_an_answer_encodes_to_what_decodes_back(doc: dict[str, Any]) -> None:
    """Inlined structs, IntOrString, Quantity, Time, MicroTime, bytes and maps survive."""
    encoded = encode_protobuf_object(doc)
    assert encoded is not None
    assert decode_protobuf_object(encoded) == doc


def test_built_in_kinds_answer_protobuf_custom_resources_json(tmp_path: Path) -> None:
    accept = {"Accept": f"{PROTOBUF}, application/json"}
    with running_api(tmp_path) as api, raw_http(api) as http:
        api.store.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
        for crd in FLUX_CRDS:
            api.store.create(crd)
        got = http.get("/api/v1/namespaces/default/configmaps/a", headers=accept)
        assert got.headers["content-type"] == PROTOBUF
        assert decode_protobuf_object(got.content)["metadata"]["name"] == "a"
        missing = http.get("/api/v1/namespaces/default/configmaps/b", headers=accept)
        assert missing.status_code == 404
        assert decode_protobuf_object(missing.content)["reason"] == "NotFound"
        custom = http.get(
            "/apis/source.toolkit.fluxcd.io/v1/namespaces/default/gitrepositories", headers=accept
        )
        assert custom.headers["content-type"].startswith("application/json")
        plain = http.get("/api/v1/namespaces/default/configmaps/a")
        assert plain.headers["content-type"].startswith("application/json")


def test_kubectl_reads_the_protobuf_answers(tmp_path: Path) -> None:
    with running_api(tmp_path) as api:
        created = api.kubectl("create", "configmap", "c", "--from-literal=k=v", "-v=8")
        assert f"Content-Type: {PROTOBUF}" in created.stderr
        assert api.kubectl("get", "configmap", "c", "-o", "jsonpath={.data.k}").stdout == "v"
