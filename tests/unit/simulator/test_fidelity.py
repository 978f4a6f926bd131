"""appliance-sim fidelity's parts that need no cluster: the corpus file, normalising, comparing,
the known differences, the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from simulator.cli import main
from simulator.fidelity.command import FidelityReport
from simulator.fidelity.compare import Comparison, Sides, compare, diff
from simulator.fidelity.corpus import CorpusError, CorpusRequest, load_corpus, save_corpus
from simulator.fidelity.known import Known, known_labels
from simulator.fidelity.normalise import foreign_fields, manager_of, normalise
from simulator.fidelity.replay import Answer, Replayer, split_path

GET = CorpusRequest("kubectl", "kubectl", "admin", "GET", "/api/v1/namespaces/a/configmaps/c")


def _answer(doc: object, code: int = 200) -> Answer:
    return Answer(code=code, content_type="application/json", body=json.dumps(doc).encode())


def test_a_corpus_survives_a_round_trip_binary_bodies_included(tmp_path: Path) -> None:
    requests = [
        GET,
        CorpusRequest(
            "product",
            "bootstrapper",
            "system:serviceaccount:x:y",
            "POST",
            "/api/v1/namespaces",
            query="fieldManager=m",
            headers=(("content-type", "application/vnd.kubernetes.protobuf"),),
            body=b"k8s\x00\xff\xfe",
        ),
    ]
    path = tmp_path / "corpus.jsonl"
    assert save_corpus(path, requests) == 2
    assert load_corpus(path) == requests


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("not json", "not JSON"),
        ('{"source": "nobody"}', "field 'actor'"),
        (
            '{"source": "elsewhere", "actor": "a", "user": "u", "method": "GET", "path": "/x"}',
            "field 'source' must be one of",
        ),
        (
            '{"source": "kubectl", "actor": "a", "user": "u", "method": "GET", "path": "x"}',
            "must start with /",
        ),
    ],
)
def test_a_bad_corpus_line_is_named(tmp_path: Path, line: str, says: str) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(CorpusError, match=says) as caught:
        load_corpus(path)
    assert f"{path}:1" in str(caught.value)


def test_the_command_refuses_a_bad_corpus_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\n")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("[1]\n")
    code = main(["fidelity", "--kubeconfig", str(kubeconfig), "--corpus", str(corpus)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0
    assert f"{corpus}:1: a request must be a JSON object" in err


def test_what_legitimately_differs_is_blanked() -> None:
    obj = {
        "kind": "Service",
        "metadata": {
            "name": "web-x7k2p",
            "generateName": "web-",
            "uid": "0a79c582-4a19-4e31-868d-cc17f0e646ba",
            "resourceVersion": "727",
            "creationTimestamp": "2026-11-28T22:54:39Z",
        },
        "spec": {"clusterIP": "10.96.3.4", "clusterIPs": ["10.96.3.4"]},
    }
    assert normalise(obj, strip=set(), corpus_managers=set()) == {
        "kind": "Service",
        "metadata": {
            "name": "web-<suffix>",
            "generateName": "web-",
            "uid": "<uid>",
            "resourceVersion": "<resourceVersion>",
            "creationTimestamp": "<time>",
        },
        "spec": {"clusterIP": "<ip>", "clusterIPs": ["<ip>"]},
    }


def test_fields_only_a_controller_wrote_are_left_out_of_both_sides() -> None:
    """kube-controller-manager's status (a list of conditions it owns whole) goes; what the
    corpus's manager also owns stays."""
    real = {
        "metadata": {
            "managedFields": [
                {"manager": "kubectl", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                {
                    "manager": "kube-controller-manager",
                    "fieldsV1": {
                        "f:spec": {"f:replicas": {}},
                        "f:status": {
                            "f:conditions": {".": {}, 'k:{"type":"Available"}': {".": {}}},
                            "f:replicas": {},
                        },
                    },
                },
            ]
        },
        "spec": {"replicas": 2},
        "status": {"replicas": 2, "conditions": [{"type": "Available", "status": "True"}]},
    }
    strip = foreign_fields(real, {"kubectl"})
    assert ("f:spec", "f:replicas") not in strip
    cleaned = normalise(real, strip=strip, corpus_managers={"kubectl"})
    assert "status" not in cleaned
    assert cleaned["spec"] == {"replicas": 2}
    assert [e["manager"] for e in cleaned["metadata"]["managedFields"]] == ["kubectl"]


def test_normalising_leaves_the_answer_it_was_given_as_it_was() -> None:
    """normalise works on a copy: the same decoded answer is normalised again for each
    comparison it takes part in (and a list's items once per pairing)."""
    real = {
        "metadata": {
            "uid": "0a79c582-4a19-4e31-868d-cc17f0e646ba",
            "managedFields": [
                {"manager": "kube-controller-manager", "fieldsV1": {"f:status": {}}},
            ],
        },
        "status": {"replicas": 2},
        "paths": {
            "/openapi/v3/api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=" + "A" * 128}
        },
    }
    before = json.loads(json.dumps(real))
    cleaned = normalise(real, strip={("f:status",)}, corpus_managers={"kubectl"})
    assert real == before
    assert cleaned == {
        "metadata": {"uid": "<uid>"},
        "paths": {"/openapi/v3/api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=<hash>"}},
    }


def test_the_field_manager_is_the_parameter_or_the_user_agents_program() -> None:
    assert manager_of("helm", "Helm/3.17.3") == "helm"
    assert manager_of("", "OpenAPI-Generator/37.0.2/python") == "OpenAPI-Generator"


def test_diff_names_the_path_and_both_values() -> None:
    found = diff({"a": {"b": 1}, "c": [1]}, {"a": {"b": 2}, "d": 3})
    assert found == [
        "a.b: 1 (fake) vs 2 (real)",
        "c: only on the fake API ([1])",
        "d: only on the real API (3)",
    ]


def test_a_resource_path_splits_into_collection_name_and_subresource() -> None:
    assert split_path("/api/v1/namespaces/a/pods/p/log") == (
        "/api/v1/namespaces/a/pods",
        "p",
        "log",
    )
    assert split_path("/apis/apps/v1/deployments") == ("/apis/apps/v1/deployments", "", "")
    assert split_path("/api/v1/namespaces/a") == ("/api/v1/namespaces", "a", "")
    assert split_path("/version") == ("", "", "")


def _compared(request: CorpusRequest, fake: Answer, real: Answer) -> Comparison:
    return compare(request, fake, real, sides=Sides(set(), set(), {"kubectl"}))


def test_a_status_code_difference_is_the_difference() -> None:
    found = _compared(GET, _answer({}, 404), _answer({}, 200))
    assert found.differences == ("status 404 (fake) vs 200 (real)",)
    assert not found.known


def test_field_ownership_is_a_finding_and_a_listed_difference_explains_only_itself() -> None:
    fake = _answer({"kind": "ConfigMap", "metadata": {"name": "c"}})
    real = _answer(
        {
            "kind": "ConfigMap",
            "metadata": {"name": "c", "managedFields": [{"manager": "kubectl"}]},
        }
    )
    owned = _compared(GET, fake, real)
    assert not owned.identical
    assert owned.known == ()  # field ownership is the fake API's now: a finding
    listed = (Known("fields", "an example", lambda _r, d: "managedFields" in d),)
    assert known_labels(GET, owned.differences, listed) == ("fields",)
    unknown = _compared(GET, fake, _answer({"kind": "ConfigMap", "metadata": {"name": "d"}}))
    assert known_labels(GET, unknown.differences, listed) == ()
    report = FidelityReport((owned, unknown, _compared(GET, fake, fake)))
    assert report.counts() == (1, 0, 3)
    assert report.lines()[-1] == "fidelity: 1/3 identical"
    assert "other differences: 2" in report.lines()[-2]


def test_an_openapi_document_is_compared_on_the_paths_the_fake_api_describes() -> None:
    request = CorpusRequest("kubectl", "kubectl", "admin", "GET", "/openapi/v3")
    url = "/openapi/v3/api/v1?hash="
    fake = _answer({"paths": {"api/v1": {"serverRelativeURL": url + "A" * 128}}})
    real = {
        "paths": {
            "api/v1": {"serverRelativeURL": url + "B" * 128},
            "apis/node.k8s.io/v1": {"serverRelativeURL": "/openapi/v3/apis/node.k8s.io/v1"},
        }
    }
    assert _compared(request, fake, _answer(real)).identical  # hashes are each server's own
    described = {"paths": {"api/v1": {"serverRelativeURL": url + "A" * 128}, "extra": {}}}
    found = _compared(request, _answer(described), _answer(real))
    assert found.differences == ("paths.extra: only on the fake API ({})",)
    document = CorpusRequest("kubectl", "kubectl", "admin", "GET", "/openapi/v3/api/v1")
    pods = "/api/v1/namespaces/{namespace}/pods/{name}"
    fake = _answer({"paths": {pods: {}}})
    unserved = {"paths": {pods: {}, f"{pods}/portforward": {}, "/api/v1/nodes/{name}/proxy": {}}}
    assert _compared(document, fake, _answer(unserved)).identical  # out of scope
    missing = {"paths": {pods: {}, f"{pods}/log": {}}}
    assert _compared(document, fake, _answer(missing)).differences == (
        f"paths.{pods}/log: only on the real API ({{}})",
    )


def test_discovery_is_compared_on_what_the_fake_api_serves_in_the_real_order() -> None:
    request = CorpusRequest("kubectl", "kubectl", "admin", "GET", "/apis")

    def listing(*resources: dict[str, Any]) -> dict[str, Any]:
        version = {"version": "v1", "resources": list(resources), "freshness": "Current"}
        return {
            "kind": "APIGroupDiscoveryList",
            "items": [{"metadata": {"name": "apps"}, "versions": [version]}],
        }

    deployments = {"resource": "deployments", "subresources": [{"subresource": "status"}]}
    real = listing(
        {"resource": "controllerrevisions"},
        {**deployments, "subresources": [{"subresource": "scale"}, {"subresource": "status"}]},
    )
    real["items"].append({"metadata": {"name": "node.k8s.io"}, "versions": []})  # not served
    assert _compared(request, _answer(listing(deployments)), _answer(real)).identical
    reordered = listing({"resource": "replicasets"}, deployments)
    real = listing(deployments, {"resource": "replicasets"})
    found = _compared(request, _answer(reordered), _answer(real))
    assert (
        "items[0].versions[0].resources[0].resource: 'replicasets' (fake)" in found.differences[0]
    )


def test_a_json_patch_that_locks_on_the_resource_version_is_sent_with_the_backends() -> None:
    """kubectl's move from client-side to server-side apply replaces managedFields with an
    optimistic lock on the object's resourceVersion: each backend gets its own."""
    path = "/apis/apps/v1/namespaces/shop/deployments/web"
    lock = [
        {"op": "replace", "path": "/metadata/managedFields", "value": []},
        {"op": "replace", "path": "/metadata/resourceVersion", "value": "24"},
    ]
    request = CorpusRequest(
        "kubectl",
        "kubectl",
        "admin",
        "PATCH",
        path,
        headers=(("content-type", "application/json-patch+json"),),
        body=json.dumps(lock).encode(),
    )
    with Replayer("real", cast(Any, None)) as replayer:
        assert replayer._body(request) == request.body  # nothing known of the object yet
        replayer.state.objects[path] = ("731", "uid-1")
        sent = json.loads(replayer._body(request))
    assert sent[1] == {"op": "replace", "path": "/metadata/resourceVersion", "value": "731"}
    assert sent[0] == lock[0]


def test_fields_a_controller_wrote_stay_foreign_after_a_client_replaced_managed_fields() -> None:
    sides = Sides(set(), set(), {"kubectl"})
    status_writer = {"manager": "kube-controller-manager", "fieldsV1": {"f:status": {".": {}}}}
    kubectl = {"manager": "kubectl", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    meta = {"name": "web", "namespace": "shop"}
    before = {"kind": "Deployment", "metadata": {**meta, "managedFields": [kubectl, status_writer]}}
    after = {"kind": "Deployment", "metadata": {**meta, "managedFields": [kubectl]}}
    assert sides.foreign(before) == {("f:status",)}
    assert sides.foreign(after) == {("f:status",)}
    taken = {"manager": "kubectl", "fieldsV1": {"f:status": {}}}
    assert sides.foreign({**after, "metadata": {**meta, "managedFields": [taken]}}) == set()


def test_no_difference_is_known_now_not_even_a_crds_openapi_document() -> None:
    """The last known difference (a CRD's OpenAPI v3 document) is fixed: it is a finding."""
    differing = ("paths: 1 missing (fake) vs present (real)",)
    for path in ("/openapi/v3/apis/example.com/v1", "/openapi/v3/apis/apps/v1"):
        request = CorpusRequest("kubectl", "kubectl", "admin", "GET", path)
        assert known_labels(request, differing) == ()
