"""Accept negotiation and the metadata conversions (simulator/api/media_types.py), case by case.

The judge (tests/integration/test_fake_api_vs_apiserver_media_types.py) holds the answers to
kube-apiserver's; these pin the rules it follows where a control plane is not needed to say so.
"""

from __future__ import annotations

import pytest

from simulator.api.kinds import KindInfo
from simulator.api.media_types import (
    JSON,
    METADATA,
    METADATA_LIST,
    PLAIN,
    PROTOBUF,
    TABLE,
    Answer,
    NotAcceptableError,
    UnroutedError,
    errors_negotiate,
    metadata_list,
    metadata_of,
    negotiate,
)
from simulator.api.store.errors import UnknownReasonError

CONFIGMAPS = KindInfo("", "v1", "ConfigMap", "configmaps", namespaced=True)
DEPLOYMENTS = KindInfo("apps", "v1", "Deployment", "deployments", namespaced=True)
EVENTS_VIEW = KindInfo("events.k8s.io", "v1", "Event", "events", namespaced=True)
GADGETS = KindInfo(
    "example.com", "v1", "Gadget", "gadgets", namespaced=True, crd_name="gadgets.example.com"
)
KUBECTL_GET = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
    "g=meta.k8s.io,application/json"
)
METADATA_CLIENT = (
    "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
)


@pytest.mark.parametrize(
    ("accept", "custom", "answer"),
    [
        ("", False, PLAIN),
        ("*/*", False, PLAIN),
        ("application/*", True, PLAIN),
        (KUBECTL_GET, False, Answer(JSON, TABLE)),
        (KUBECTL_GET, True, Answer(JSON, TABLE)),
        (METADATA_CLIENT, False, Answer(PROTOBUF, METADATA_LIST)),
        # A custom resource's metadata is served in protobuf too: a meta.k8s.io kind.
        (METADATA_CLIENT, True, Answer(PROTOBUF, METADATA_LIST)),
        (f"{PROTOBUF}, {JSON}", False, Answer(PROTOBUF)),
        # ...but not the custom resource itself.
        (f"{PROTOBUF}, {JSON}", True, PLAIN),
        (f"{JSON};as=PartialObjectMetadata;g=meta.k8s.io;v=v1beta1", False,
         Answer(JSON, METADATA, "v1beta1")),
        # A Table only in JSON or YAML; another `as` or group never: the next clause is taken.
        (f"{PROTOBUF};as=Table;g=meta.k8s.io;v=v1, {JSON}", False, PLAIN),
        (f"{JSON};as=Foo;g=meta.k8s.io;v=v1, {PROTOBUF}", False, Answer(PROTOBUF)),
        (f"{JSON};as=Table;g=example.com;v=v1, {JSON}", False, PLAIN),
        (f"{JSON};as=Table, {JSON}", False, PLAIN),
        # The best q first, then a named type before a wildcard.
        (f"{JSON};q=0.5, {PROTOBUF}", False, Answer(PROTOBUF)),
        (f"*/*, {PROTOBUF}", False, Answer(PROTOBUF)),
    ],
)  # fmt: skip
def test_an_accept_header_is_negotiated_as_kube_apiserver_negotiates_it(
    accept: str, custom: bool, answer: Answer
) -> None:
    assert negotiate(accept, custom=custom) == answer


def test_a_media_type_no_route_produces_is_refused_by_the_router_or_the_handler() -> None:
    with pytest.raises(UnroutedError) as routed:
        negotiate("text/plain", collection=True)
    assert routed.value.message == (
        "406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, "
        "application/vnd.kubernetes.protobuf, application/json;stream=watch, "
        "application/vnd.kubernetes.protobuf;stream=watch"
    )
    assert routed.value.status()["details"] == {}
    with pytest.raises(NotAcceptableError) as handled:
        negotiate("text/plain", custom=True)
    assert not isinstance(handled.value, UnroutedError)
    assert handled.value.message == (
        "only the following media types are accepted: application/json, application/yaml, "
        "application/vnd.kubernetes.protobuf"
    )
    with pytest.raises(NotAcceptableError) as unconvertible:
        negotiate(f"{PROTOBUF};as=Table;g=meta.k8s.io;v=v1")
    assert not isinstance(unconvertible.value, UnroutedError)


def test_errors_are_negotiated_only_from_a_clause_without_a_conversion() -> None:
    assert errors_negotiate("")
    assert errors_negotiate(KUBECTL_GET)
    assert errors_negotiate(METADATA_CLIENT)
    assert not errors_negotiate(f"{JSON};as=PartialObjectMetadata;g=meta.k8s.io;v=v1")
    assert not errors_negotiate("text/plain")


def test_an_object_and_a_list_become_their_metadata() -> None:
    answer = Answer(JSON, METADATA)
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}
    assert metadata_of(answer, CONFIGMAPS, obj) == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"name": "c"},
    }
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure"}
    assert metadata_of(answer, CONFIGMAPS, status) is status
    listed = metadata_list(
        Answer(JSON, METADATA_LIST, "v1beta1"),
        CONFIGMAPS,
        {"resourceVersion": "7", "continue": "", "remainingItemCount": 0},
        [obj],
    )
    assert listed == {
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1beta1",
        "metadata": {"resourceVersion": "7", "remainingItemCount": 0},
        "items": [
            {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1beta1",
             "metadata": {"name": "c"}}
        ],
    }  # fmt: skip
    empty = metadata_list(Answer(JSON, METADATA_LIST), GADGETS, {"resourceVersion": "7"}, [])
    assert empty["items"] is None


@pytest.mark.parametrize(
    ("info", "single", "listed"),
    [
        (CONFIGMAPS, "*core.ConfigMap", "*core.ConfigMapList"),
        (DEPLOYMENTS, "*apps.Deployment", "*apps.DeploymentList"),
        (EVENTS_VIEW, "*core.Event", "*core.EventList"),
    ],
)
def test_asking_one_of_an_object_or_the_other_of_a_list_names_the_storage_type(
    info: KindInfo, single: str, listed: str
) -> None:
    with pytest.raises(NotAcceptableError, match=rf"is not a list \({single.replace('*', '.')}\)"):
        metadata_of(Answer(JSON, METADATA_LIST), info, {"metadata": {}})
    with pytest.raises(NotAcceptableError, match=rf"is a list \({listed.replace('*', '.')}\)"):
        metadata_list(Answer(JSON, METADATA), info, {}, [])


def test_a_custom_resource_as_a_list_is_a_plain_error() -> None:
    with pytest.raises(UnknownReasonError, match="content is not a list"):
        metadata_of(Answer(JSON, METADATA_LIST), GADGETS, {"metadata": {}})
    with pytest.raises(NotAcceptableError, match=r"\(\*unstructured.UnstructuredList\)"):
        metadata_list(Answer(JSON, METADATA), GADGETS, {}, [])
