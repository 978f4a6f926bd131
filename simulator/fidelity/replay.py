"""Sending a corpus to one backend, as its clients would have sent it there.

A request is sent as recorded, with the few values that name one server's state translated to
this backend's: a watch's or paged list's `resourceVersion` and `continue` come from this
backend's last list of the same collection (an informer lists, then watches from the list's
version), and a body's `metadata.resourceVersion`/`uid` (an update's precondition) from this
backend's last answer for that object. Each identity gets its own credential from the backend
(`admin`: its kubeconfig; a service account: a token the backend issues for it).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from simulator.api.protobuf import PROTOBUF, ProtobufError, decode_protobuf_object
from simulator.fidelity.corpus import ADMIN, CorpusRequest
from simulator.replay.kubeclient import ApiError, KubeClient, OpenStream, RawAnswer

__all__ = ["Answer", "Replayer", "Target", "object_path", "split_path"]

Obj = dict[str, Any]
# A watch is read this long: long enough for its initial events, short enough for a corpus.
WATCH_SECONDS = 1.5
_SERVICE_ACCOUNT = "system:serviceaccount:"
_OPENAPI_V3 = "/openapi/v3"
_CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
_SETTLE_SECONDS = 20.0


class Target(Protocol):
    """What a backend offers: the fake `ApiServer` and `ControlPlaneAccess` both do."""

    url: str

    def write_kubeconfig(
        self, path: str | Path, *, token: str | None = None, user: str = "admin"
    ) -> Path: ...

    def issue_token(self, namespace: str, serviceaccount: str) -> str: ...


@dataclass(frozen=True)
class Answer:
    """A backend's answer to one corpus request (`error` when none came)."""

    code: int = 0
    content_type: str = ""
    body: bytes = b""
    lines: tuple[bytes, ...] = ()
    error: str = ""

    def json(self) -> Any:
        """The decoded body (JSON, or Kubernetes protobuf in its JSON form), or None."""
        if not self.body:
            return None
        if self.content_type.startswith(PROTOBUF):
            try:
                return decode_protobuf_object(self.body)
            except ProtobufError:
                return None
        if not self.content_type.startswith("application/json"):
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def events(self) -> list[Obj]:
        """A watch stream's events (undecodable lines are kept as `{"raw": ...}`)."""
        found: list[Obj] = []
        for line in self.lines:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"raw": line.decode(errors="replace")}
            found.append(event if isinstance(event, dict) else {"raw": str(event)})
        return found


def object_path(collection: str, item: Obj) -> str:
    """The path of `item` listed or created under `collection` (`/api/v1/pods` + a pod)."""
    meta = item.get("metadata") or {}
    name, namespace = str(meta.get("name", "")), meta.get("namespace")
    parts = collection.rstrip("/").split("/")
    if namespace and "namespaces" not in parts[:-1]:
        # A cluster-wide list of a namespaced kind: /api/v1/pods -> /api/v1/namespaces/ns/pods.
        parts = [*parts[:-1], "namespaces", str(namespace), parts[-1]]
    return "/".join([*parts, name])


@dataclass
class _State:
    """What this backend said about collections and objects, for translating later requests."""

    list_versions: dict[str, str] = field(default_factory=dict)
    continues: dict[str, str] = field(default_factory=dict)
    objects: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (rv, uid)
    owned: set[str] = field(default_factory=set)  # paths of objects the corpus wrote
    latest_version: str = ""
    # /openapi/v3/<group-version> -> this backend's hash of it (from its /openapi/v3 index).
    openapi_hashes: dict[str, str] = field(default_factory=dict)


class Replayer:
    """Sends corpus requests to one backend in order; `owned` says which objects they wrote."""

    def __init__(self, name: str, target: Target, *, watch_seconds: float = WATCH_SECONDS) -> None:
        self.name = name
        self.target = target
        self.watch_seconds = watch_seconds
        self._folder = tempfile.TemporaryDirectory(prefix=f"appliance-sim-fidelity-{name}-")
        self._clients: dict[str, KubeClient] = {}
        self.state = _State()

    @property
    def owned(self) -> set[str]:
        return self.state.owned

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        self._folder.cleanup()

    def __enter__(self) -> Replayer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _client(self, user: str) -> KubeClient:
        client = self._clients.get(user)
        if client is not None:
            return client
        path = Path(self._folder.name) / f"{len(self._clients)}.kubeconfig"
        if user == ADMIN:
            self.target.write_kubeconfig(path)
        elif user.startswith(_SERVICE_ACCOUNT) and user.count(":") == 3:
            namespace, account = user[len(_SERVICE_ACCOUNT) :].split(":")
            token = self.target.issue_token(namespace, account)
            self.target.write_kubeconfig(path, token=token, user=account)
        else:
            raise ApiError(f"no credential for {user!r} (admin or a service account)")
        client = self._clients[user] = KubeClient(path)
        return client

    def send(self, request: CorpusRequest) -> Answer:
        """Send one request (translated to this backend) and remember what its answer says."""
        answer = self._sent(request)()
        self._remember(request, answer)
        return answer

    def _sent(self, request: CorpusRequest) -> Callable[[], Answer]:
        """Send one request; the call returned gives its answer. A watch's answer is read by
        that call (until `watch_seconds` after sending); the others' are in already."""
        try:
            client = self._client(request.user)
            if _locks_a_version(request):
                self._reread(client, request.path)
            for attempt in range(_THROTTLED_ATTEMPTS):
                query, headers, content = (
                    self._query(request),
                    dict(request.headers),
                    self._body(request),
                )
                if request.is_watch:
                    stream = client.open_stream(
                        request.method,
                        request.path,
                        query=query,
                        headers=headers,
                        content=content,
                        seconds=self.watch_seconds,
                    )
                    if stream.code == 429 and attempt < _THROTTLED_ATTEMPTS - 1:
                        stream.read()
                        time.sleep(1.0 + attempt)
                        continue
                    return lambda: _read(stream)
                raw = client.send(
                    request.method, request.path, query=query, headers=headers, content=content
                )
                # kube-apiserver's flow control answers 429 on a loaded machine; every client
                # sends the request again after a moment, and so does the replay.
                if raw.code != 429 or attempt == _THROTTLED_ATTEMPTS - 1:
                    break
                time.sleep(1.0 + attempt)
        except ApiError as exc:
            failed = Answer(error=exc.one_line())
            return lambda: failed
        answer = _answer(raw)
        if request.path == _CRDS and request.method == "POST" and answer.code == 201:
            self._settle_crd(client, answer)
        return lambda: answer

    def _reread(self, client: KubeClient, path: str) -> None:
        """The object's version as it is now on this backend. kubectl's move to server-side
        apply locks the version it read; when it meets a conflict it reads the object again and
        patches again (a few times). Between the recorded read and that patch, a control plane's
        controllers may write the object (a Deployment's revision, its status) where the fake
        API, with no controllers behind it, does not: the replay reads again at once instead,
        so both backends answer the patch a client's retry would send."""
        try:
            live = client.request("GET", path)
        except ApiError:
            return
        meta = live.get("metadata") or {}
        if meta.get("resourceVersion"):
            self.state.objects[path] = (str(meta["resourceVersion"]), str(meta.get("uid", "")))

    def _settle_crd(self, client: KubeClient, answer: Answer) -> None:
        """Wait until a new CRD is established and its group version's OpenAPI document is
        published. kube-apiserver's controllers do both a moment after the create, the fake
        API's at once; the recorded requests follow each other within milliseconds, so without
        the wait the next answers would say how long that moment was, not what is served."""
        crd = answer.json() or {}
        name = str((crd.get("metadata") or {}).get("name", ""))
        group = str((crd.get("spec") or {}).get("group", ""))
        versions = [str(v.get("name")) for v in (crd.get("spec") or {}).get("versions") or []]
        wanted = {f"apis/{group}/{version}" for version in versions}
        deadline = time.monotonic() + _SETTLE_SECONDS
        while time.monotonic() < deadline:
            try:
                live = client.request("GET", f"{_CRDS}/{name}")
                index = client.request("GET", _OPENAPI_V3)
            except ApiError:
                return
            conditions = (live.get("status") or {}).get("conditions") or []
            established = any(
                c.get("type") == "Established" and c.get("status") == "True" for c in conditions
            )
            if established and wanted <= set(index.get("paths") or {}):
                return
            time.sleep(0.1)

    def run(self, requests: Sequence[CorpusRequest]) -> list[Answer]:
        """Send every request in order.

        A watch is read for `watch_seconds` while the reads after it are sent (each is sent once
        the one before has its answer, a watch once its stream is open): reads change nothing a
        watch could see. Before a write, every open watch is read to its end, so each watch sees
        the corpus's writes exactly as if it were read alone. The product opens its informers'
        lists and watches together: most of a corpus's watches overlap.
        """
        answers: list[Answer | None] = [None] * len(requests)
        reading: dict[int, Future[Answer]] = {}
        watches = sum(1 for request in requests if request.is_watch)
        with ThreadPoolExecutor(max(watches, 1), thread_name_prefix=f"{self.name}-watch") as pool:
            for number, request in enumerate(requests):
                if request.method not in _READS:
                    self._finish(requests, reading, answers)
                if request.is_watch:
                    reading[number] = pool.submit(self._sent(request))
                else:
                    answers[number] = self.send(request)
            self._finish(requests, reading, answers)
        return [answer for answer in answers if answer is not None]

    def _finish(
        self,
        requests: Sequence[CorpusRequest],
        reading: dict[int, Future[Answer]],
        answers: list[Answer | None],
    ) -> None:
        """Wait for the watches being read; remember what they said, in the corpus's order."""
        for number in sorted(reading):
            answers[number] = answer = reading[number].result()
            self._remember(requests[number], answer)
        reading.clear()

    # ----------------------------------------------------------------- translation

    def _query(self, request: CorpusRequest) -> str:
        if not request.query:
            return ""
        pairs = parse_qsl(request.query, keep_blank_values=True)
        return urlencode([(key, self._translated(request, key, value)) for key, value in pairs])

    def _translated(self, request: CorpusRequest, key: str, value: str) -> str:
        """A query value that names the recording server's state, as this backend names it."""
        if key == "resourceVersion" and value not in ("", "0"):
            return self.state.list_versions.get(request.path) or self.state.latest_version or value
        if key == "continue" and value:
            return self.state.continues.get(request.path, value)
        if key == "hash" and request.path.startswith(_OPENAPI_V3):
            return self.state.openapi_hashes.get(request.path, value)
        return value

    def _body(self, request: CorpusRequest) -> bytes:
        # The official client sends JSON without naming it; the API server reads it as JSON.
        kind = request.header("content-type")
        if not request.body or (kind and not kind.startswith("application/json")):
            return request.body
        try:
            doc = json.loads(request.body)
        except ValueError:
            return request.body
        known = self.state.objects.get(request.path)
        if isinstance(doc, list) and known is not None:
            return self._json_patch(doc, known) or request.body
        if not isinstance(doc, dict):
            return request.body
        changed = False
        meta = doc.get("metadata")
        if known is not None and isinstance(meta, dict):
            for key, value in (("resourceVersion", known[0]), ("uid", known[1])):
                if meta.get(key):
                    meta[key], changed = value, True
        preconditions = doc.get("preconditions")
        if known is not None and isinstance(preconditions, dict):
            for key, value in (("resourceVersion", known[0]), ("uid", known[1])):
                if preconditions.get(key):
                    preconditions[key], changed = value, True
        return json.dumps(doc).encode() if changed else request.body

    @staticmethod
    def _json_patch(operations: list[Any], known: tuple[str, str]) -> bytes | None:
        """A JSON patch whose operations set or test the object's resourceVersion or uid (as
        kubectl's move of client-side to server-side apply does: an optimistic lock), with this
        backend's; None when it names neither."""
        changed = False
        for operation in operations:
            if not isinstance(operation, dict) or "value" not in operation:
                continue
            path = operation.get("path")
            for name, value in (("resourceVersion", known[0]), ("uid", known[1])):
                if path == f"/metadata/{name}":
                    operation["value"], changed = value, True
        return json.dumps(operations).encode() if changed else None

    def _remember(self, request: CorpusRequest, answer: Answer) -> None:
        if request.path.rstrip("/") == _OPENAPI_V3:
            self._openapi_index(answer.body)
            return
        doc = answer.json()
        if not isinstance(doc, dict):
            return
        meta = doc.get("metadata") or {}
        kind = str(doc.get("kind", ""))
        if kind.endswith("List") and isinstance(doc.get("items"), list):
            version = str(meta.get("resourceVersion", ""))
            if version:
                self.state.list_versions[request.path] = version
                self.state.latest_version = version
            self.state.continues[request.path] = str(meta.get("continue", ""))
            for item in doc["items"]:
                if isinstance(item, dict):
                    self._object(object_path(request.path, item), item)
            return
        if kind == "Status" or not meta.get("name"):
            return
        collection, name, subresource = split_path(request.path)
        if subresource not in ("", "status") or (not name and request.method != "POST"):
            return  # a Scale, a TokenRequest...: not the object itself
        path = object_path(collection, doc) if not name else f"{collection}/{name}"
        self._object(path, doc)
        if request.method in ("POST", "PUT", "PATCH") and 200 <= answer.code < 300:
            self.state.owned.add(path)

    def _openapi_index(self, body: bytes) -> None:
        """A client follows the index's `serverRelativeURL`s: remember each one's hash."""
        try:
            index = json.loads(body)
        except ValueError:
            return
        for entry in (index.get("paths") or {}).values() if isinstance(index, dict) else ():
            url = str(entry.get("serverRelativeURL", "")) if isinstance(entry, dict) else ""
            path, _, query = url.partition("?")
            found = dict(parse_qsl(query)).get("hash")
            if found:
                self.state.openapi_hashes[path] = found

    def _object(self, path: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        version = str(meta.get("resourceVersion", ""))
        self.state.objects[path] = (version, str(meta.get("uid", "")))
        if version:
            self.state.latest_version = version


_THROTTLED_ATTEMPTS = 5
# What a request that changes nothing is sent with (a watch among them: `watch=true`).
_READS = frozenset({"GET", "HEAD"})


def _read(stream: OpenStream) -> Answer:
    try:
        return _answer(stream.read())
    except ApiError as exc:
        return Answer(error=exc.one_line())


def split_path(path: str) -> tuple[str, str, str]:
    """A resource path as (collection, name, subresource): `/api/v1/namespaces/a/pods/p/log`
    -> (`/api/v1/namespaces/a/pods`, `p`, `log`); ("", "", "") for a non-resource path."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 3:
        head, rest = parts[:2], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        head, rest = parts[:3], parts[3:]
    else:
        return "", "", ""
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2:] not in (["status"], ["finalize"]):
        head, rest = [*head, "namespaces", rest[1]], rest[2:]
    collection = "/" + "/".join([*head, rest[0]])
    return collection, rest[1] if len(rest) > 1 else "", "/".join(rest[2:])


def _answer(raw: RawAnswer) -> Answer:
    return Answer(code=raw.code, content_type=raw.content_type, body=raw.body, lines=raw.lines)


def _locks_a_version(request: CorpusRequest) -> bool:
    """A JSON patch that sets or tests the object's resourceVersion (an optimistic lock)."""
    return (
        request.method == "PATCH"
        and request.header("content-type").startswith("application/json-patch+json")
        and b'"/metadata/resourceVersion"' in (request.body or b"")
    )
