"""How a corpus is sent to one backend (simulator.fidelity.replay), against a fake API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from simulator.api import ApiServer
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from simulator.fidelity.corpus import ADMIN, CorpusRequest
from simulator.fidelity.replay import Answer, Replayer
from simulator.replay.kubeclient import KubeClient, OpenStream, RawAnswer

CONFIGMAPS = "/api/v1/namespaces/shop/configmaps"
WATCH = "watch=true&allowWatchBookmarks=true&resourceVersion=7"


def _request(method: str, path: str, query: str = "", body: object = None) -> CorpusRequest:
    content = json.dumps(body).encode() if body is not None else b""
    headers = (("content-type", "application/json"),) if body is not None else ()
    return CorpusRequest("product", "bootstrapper", ADMIN, method, path, query, headers, content)


def _configmap(name: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer(ObjectStore(VirtualClock(datetime.now(UTC), speed=1.0)))
    server.start()
    yield server
    server.stop()


def _added(answer: Answer) -> list[str]:
    return [
        str(event["object"]["metadata"]["name"])
        for event in answer.events()
        if event.get("type") == "ADDED"
    ]


def test_watches_are_read_while_the_reads_after_them_are_sent_but_not_past_a_write(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = [
        _request("POST", "/api/v1/namespaces", body={"metadata": {"name": "shop"}}),
        _request("POST", CONFIGMAPS, body=_configmap("before")),
        _request("GET", CONFIGMAPS),  # the watches start from this list's version
        _request("GET", CONFIGMAPS, WATCH),
        _request("GET", "/apis/apps/v1/deployments", WATCH),
        _request("GET", "/version"),
        _request("POST", CONFIGMAPS, body=_configmap("after")),
        _request("GET", CONFIGMAPS, WATCH),
    ]
    # A watch's stream is read only once GET /version was sent: a replay that read each watch
    # to its end before sending the next request would wait here and fail.
    version_sent = threading.Event()
    happened: list[str] = []
    send, read = KubeClient.send, OpenStream.read

    def sending(client: KubeClient, method: str, path: str, **options: Any) -> RawAnswer:
        happened.append(f"{method} {path}")
        if path == "/version":
            version_sent.set()
        return send(client, method, path, **options)

    def reading(stream: OpenStream) -> RawAnswer:
        reading_began = version_sent.wait(timeout=10)
        answer = read(stream)
        happened.append("watch read" if reading_began else "watch read alone")
        return answer

    monkeypatch.setattr(KubeClient, "send", sending)
    monkeypatch.setattr(OpenStream, "read", reading)
    with Replayer("fake", api, watch_seconds=0.5) as replayer:
        answers = replayer.run(corpus)

    assert [a.code for a in answers] == [201, 201, 200, 200, 200, 200, 201, 200]
    # Both watches were read while GET /version was sent, and ended before the write after it.
    write = happened.index(f"POST {CONFIGMAPS}", happened.index("GET /version"))
    assert happened[write - 2 : write] == ["watch read", "watch read"]
    # So the first watch saw nothing after the list, and the one after the write sees it.
    assert _added(answers[3]) == []
    assert _added(answers[7]) == ["after"]


def test_a_patch_that_locks_a_version_is_sent_with_the_version_there_now(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kubectl's move to server-side apply locks the version it read, and reads again and
    patches again on a conflict. A controller that writes the object between the recorded read
    and that patch (kube-controller-manager does, the fake API has none) must not turn the
    replay's answer into a 409 that a real client would have retried past."""
    lock = [
        {"op": "replace", "path": "/metadata/resourceVersion", "value": "1"},
        {"op": "add", "path": "/data", "value": {"a": "1"}},
    ]
    patch = CorpusRequest(
        "kubectl",
        "kubectl",
        ADMIN,
        "PATCH",
        f"{CONFIGMAPS}/locked",
        "",
        (("content-type", "application/json-patch+json"),),
        json.dumps(lock).encode(),
    )
    corpus = [
        _request("POST", "/api/v1/namespaces", body={"metadata": {"name": "shop"}}),
        _request("POST", CONFIGMAPS, body=_configmap("locked")),
        patch,
    ]
    send = KubeClient.send

    def controller_writes_after_the_create(
        client: KubeClient, method: str, path: str, **options: Any
    ) -> RawAnswer:
        answer = send(client, method, path, **options)
        if method == "POST" and path == CONFIGMAPS:
            labels = {"metadata": {"labels": {"written-by": "a-controller"}}}
            api.store.patch("v1", "ConfigMap", "locked", labels, "merge", "shop")
        return answer

    monkeypatch.setattr(KubeClient, "send", controller_writes_after_the_create)
    with Replayer("fake", api, watch_seconds=0.5) as replayer:
        answers = replayer.run(corpus)
    assert [a.code for a in answers] == [201, 201, 200]
    assert api.store.get("v1", "ConfigMap", "locked", "shop")["data"] == {"a": "1"}
