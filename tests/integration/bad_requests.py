"""Malformed requests and kube-apiserver v1.37's answers to them, sent raw to any server.

One table for two tests: the fake API alone must give each answer exactly
(test_fake_api_bad_requests.py), and the fake API and a real control plane must give the same
answers (test_fake_api_vs_apiserver_refusals.py). Each request is refused, so the table can be
sent in any order; paths name the namespace `{ns}`, which holds a ConfigMap `good` and a
Deployment `web` (`prepare` makes them).
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

__all__ = ["CASES", "Answer", "BadRequest", "prepare", "request", "send"]

CM = "/api/v1/namespaces/{ns}/configmaps"
GOOD = CM + "/good"
WEB = "/apis/apps/v1/namespaces/{ns}/deployments/web"
SCALE = "/apis/apps/v1/namespaces/{ns}/deployments/web/scale"
TOKEN = "/api/v1/namespaces/{ns}/serviceaccounts/default/token"
MERGE, STRATEGIC = "application/merge-patch+json", "application/strategic-merge-patch+json"
JSON_PATCH, APPLY = "application/json-patch+json", "application/apply-patch+yaml"
JSON = "application/json"
MAP = "map[string]interface {}"
TYPE_META = (
    'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
    'Kind string "json:\\"kind,omitempty\\"" }'
)
NO_METHOD = "the server does not allow this method on the requested resource"
NOT_INTEGER = 'strconv.ParseInt: parsing "abc": invalid syntax'


@dataclass(frozen=True)
class Answer:
    """What a client sees of a refusal: the code, and the Status's reason and message (for a
    body that is no Status, no reason and the body's text)."""

    status: int
    reason: str | None
    message: str


@dataclass(frozen=True)
class BadRequest:
    method: str
    path: str
    body: str | None
    content_type: str | None
    expected: Answer


def _bad(method: str, path: str, body: str | None, kind: str | None, message: str) -> BadRequest:
    return BadRequest(method, path, body, kind, Answer(400, "BadRequest", message))


def _list(query: str, message: str) -> BadRequest:
    return _bad("GET", CM + query, None, None, message)


def _list_options(query: str, errors: str) -> BadRequest:
    message = f'ListOptions.meta.k8s.io "" is invalid: {errors}'
    return BadRequest("GET", CM + query, None, None, Answer(422, "Invalid", message))


def _cm(meta: str = "", rest: str = "") -> str:
    return '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"' + meta + "}" + rest + "}"


def _handled(kind: str, reason: str) -> str:
    return f'{kind} in version "v1" cannot be handled as a {kind}: {reason}'


def _unsupported(options: str, field: str, value: str, supported: str) -> Answer:
    return Answer(
        422,
        "Invalid",
        f'{options}.meta.k8s.io "" is invalid: {field}: Unsupported value: "{value}": '
        f"supported values: {supported}",
    )


def _cm_apply(rest: str) -> str:
    return '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"good"},' + rest + "}"


def _deployment_apply(rest: str) -> str:
    return '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},' + rest + "}"


def _untyped(
    path: str, body: str, errors: str, *, kind: str = "/v1, Kind=ConfigMap", name: str = "good"
) -> BadRequest:
    """An apply whose configuration structured-merge-diff cannot type (the body names no
    namespace, so neither does the message)."""
    message = f"failed to create typed patch object (/{name}; {kind}): {errors}"
    return BadRequest("PATCH", path + "?fieldManager=m", body, APPLY, Answer(500, None, message))


CASES: dict[str, BadRequest] = {
    "merge patch of a string": _bad(
        "PATCH", GOOD, '"not json"', MERGE,
        f"error decoding patch: json: cannot unmarshal string into Go value of type {MAP}",
    ),
    "merge patch of an array": _bad(
        "PATCH", GOOD, "[1,2]", MERGE,
        f"error decoding patch: json: cannot unmarshal array into Go value of type {MAP}",
    ),
    "merge patch of null": _bad("PATCH", GOOD, "null", MERGE, "Invalid JSON Patch"),
    "merge patch no JSON": _bad("PATCH", GOOD, "{bad", MERGE, "invalid JSON patch"),
    "strategic patch no JSON": _bad("PATCH", GOOD, "{bad", STRATEGIC, "invalid JSON patch"),
    "JSON patch no JSON": _bad("PATCH", GOOD, "{bad", JSON_PATCH, "invalid JSON patch"),
    "strategic patch of a string": _bad(
        "PATCH", GOOD, '"x"', STRATEGIC,
        f"json: cannot unmarshal string into Go value of type {MAP}",
    ),
    "JSON patch of an object": _bad(
        "PATCH", GOOD, '{"op":"add"}', JSON_PATCH,
        "error decoding patch: json: cannot unmarshal object into Go value of type "
        "[]handlers.jsonPatchOp",
    ),
    "patch as text": BadRequest(
        "PATCH", GOOD, "{}", "text/plain",
        Answer(415, "UnsupportedMediaType", "415: Unsupported Media Type"),
    ),
    "apply patch of a string": _bad(
        "PATCH", GOOD + "?fieldManager=m", '"x"', APPLY,
        "error decoding patch: error unmarshaling JSON: while decoding JSON: json: cannot "
        f"unmarshal string into Go value of type {MAP}",
    ),
    "apply patch no YAML": _bad(
        "PATCH", GOOD + "?fieldManager=m", "{bad: [", APPLY,
        "error decoding patch: error converting YAML to JSON: yaml: line 1: did not find "
        "expected node content",
    ),
    # Server-side apply makes the applied configuration typed (structured-merge-diff) before
    # anything else: a value of the wrong shape, or a field the schema does not declare, fails
    # that, and kube-apiserver answers the plain error as a 500 with no reason.
    "apply of a number for a string": _untyped(
        GOOD, _cm_apply('"data":{"a":1}'), ".data.a: expected string, got "
        "&value.valueUnstructured{Value:1}",
    ),
    "apply of a string for a number": _untyped(
        WEB, _deployment_apply('"spec":{"replicas":"2"}'),
        ".spec.replicas: expected numeric (int or float), got string",
        kind="apps/v1, Kind=Deployment",
        name="web",
    ),
    "apply of a string for a boolean": _untyped(
        GOOD, _cm_apply('"immutable":"yes"'), ".immutable: expected boolean, got &{yes}"
    ),
    "apply of a string for a map": _untyped(
        GOOD, _cm_apply('"data":"x"'), ".data: expected map, got &{x}"
    ),
    "apply of a string for a list": _untyped(
        WEB, _deployment_apply('"spec":{"template":{"spec":{"containers":"x"}}}'),
        ".spec.template.spec.containers: expected list, got &{x}",
        kind="apps/v1, Kind=Deployment", name="web",
    ),
    "apply of a map for a string": _untyped(
        GOOD, _cm_apply('"data":{"a":{"b":1,"c":[true,"x"]}}'),
        ".data.a: expected string, got &value.valueUnstructured{Value:map[string]interface {}"
        '{"b":1, "c":[]interface {}{true, "x"}}}',
    ),
    "apply of a list for a boolean": _untyped(
        GOOD, _cm_apply('"immutable":[1.5,{"k":"v"}]'),
        ".immutable: expected boolean, got &{[1.5 map[k:v]]}",
    ),
    "apply of an undeclared field": _untyped(
        GOOD, _cm_apply('"extra":"x"'), ".extra: field not declared in schema"
    ),
    "create no JSON": _bad(
        "POST", CM, "{bad", JSON,
        "the object provided is unrecognized (must be of type ConfigMap): couldn't get "
        "version/kind; json parse error: invalid character 'b' looking for beginning of "
        "object key string ({bad)",
    ),
    "create of an array": _bad(
        "POST", CM, "[]", JSON,
        "the object provided is unrecognized (must be of type ConfigMap): couldn't get "
        f"version/kind; json parse error: json: cannot unmarshal array into Go value of type "
        f"{TYPE_META} (5b5d)",
    ),
    "create of another kind": _bad(
        "POST", CM, '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}', JSON,
        'Pod in version "v1" cannot be handled as a ConfigMap: converting (v1.Pod) to '
        "(core.ConfigMap): unknown conversion",
    ),
    "create with a number for a string": _bad(
        "POST", CM, _cm(rest=',"data":{"a":1}'), JSON,
        _handled(
            "ConfigMap",
            "json: cannot unmarshal number into Go struct field ConfigMap.data of type string",
        ),
    ),
    "create with a bool for a label": _bad(
        "POST", CM, _cm(meta=',"labels":{"a":true}'), JSON,
        _handled(
            "ConfigMap",
            "json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of "
            "type string",
        ),
    ),
    "create with an unknown fieldValidation": BadRequest(
        "POST", CM + "?fieldValidation=Bogus", _cm(), JSON,
        _unsupported("CreateOptions", "fieldValidation", "Bogus", '"", "Ignore", "Strict", "Warn"'),
    ),
    "update of another name": _bad(
        "PUT", GOOD, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"other"}}', JSON,
        "the name of the object (other) does not match the name on the URL (good)",
    ),
    "list limit no number": _list("?limit=abc", NOT_INTEGER),
    "list continue no token": _list(
        "?continue=garbage",
        "invalid continue token: continue key is not valid: invalid character '\\u0081' "
        "looking for beginning of value",
    ),
    "list resourceVersion no number": _list(
        "?resourceVersion=abc",
        'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: '
        'parsing "abc": invalid syntax',
    ),
    "list timeoutSeconds no number": _list("?timeoutSeconds=abc", NOT_INTEGER),
    "list resourceVersionMatch without a version": _list_options(
        "?resourceVersionMatch=NotOlderThan",
        "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless "
        "resourceVersion is provided",
    ),
    "list resourceVersionMatch Exact of 0": _list_options(
        "?resourceVersionMatch=Exact&resourceVersion=0",
        'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for '
        'resourceVersion "0"',
    ),
    "list resourceVersionMatch unknown, with continue": _list_options(
        "?resourceVersionMatch=Bogus&resourceVersion=5&continue=abc",
        "[resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is "
        'provided, resourceVersionMatch: Unsupported value: "Bogus": supported values: '
        '"Exact", "NotOlderThan", ""]',
    ),
    "list sendInitialEvents": _list_options(
        "?sendInitialEvents=true",
        "sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list",
    ),
    "watch sendInitialEvents without NotOlderThan": _list_options(
        "?watch=true&sendInitialEvents=true",
        "resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
        "resourceVersionMatch to NotOlderThan",
    ),
    "watch resourceVersionMatch Exact": _list_options(
        "?watch=true&resourceVersionMatch=Exact&resourceVersion=0",
        "[resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless "
        'sendInitialEvents is provided, resourceVersionMatch: Unsupported value: "Exact": '
        'supported values: "NotOlderThan"]',
    ),
    "label selector a===": _list(
        "?labelSelector=a%3D%3D%3D",
        "unable to parse requirement: found '=', expected: identifier",
    ),
    "label selector unclosed set": _list(
        "?labelSelector=a%20in%20(b",
        "unable to parse requirement: found '', expected: ',' or ')'",
    ),
    "field selector of data": _list(
        "?fieldSelector=data.a%3D1",
        '"data.a" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ),
    "delete no JSON": _bad(
        "DELETE", GOOD, "{bad", JSON,
        "couldn't get version/kind; json parse error: invalid character 'b' looking for "
        "beginning of object key string",
    ),
    "delete gracePeriodSeconds no number": _bad(
        "DELETE", GOOD + "?gracePeriodSeconds=abc", None, None, NOT_INTEGER
    ),
    "delete unknown propagationPolicy": BadRequest(
        "DELETE", GOOD + "?propagationPolicy=Bogus&dryRun=All", None, None,
        _unsupported(
            "DeleteOptions", "propagationPolicy", "Bogus",
            '"Foreground", "Background", "Orphan", "nil"',
        ),
    ),
    "delete orphanDependents and propagationPolicy": BadRequest(
        "DELETE", GOOD, '{"orphanDependents":true,"propagationPolicy":"Foreground"}', JSON,
        Answer(
            422, "Invalid",
            'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: '
            '"Foreground": orphanDependents and deletionPropagation cannot be both set',
        ),
    ),
    "create a secret whose data is no base64": _bad(
        "POST", "/api/v1/namespaces/{ns}/secrets", '{"metadata":{"name":"s"},"data":{"a":"YW Jj"}}',
        JSON, _handled("Secret", "illegal base64 data at input byte 2"),
    ),
    "scale patch of a string": _bad(
        "PATCH", SCALE, '"x"', MERGE,
        f"error decoding patch: json: cannot unmarshal string into Go value of type {MAP}",
    ),
    "scale patch no JSON": _bad("PATCH", SCALE, "{bad", STRATEGIC, "invalid JSON patch"),
    "scale update no JSON": _bad(
        "PUT", SCALE, "{bad", JSON,
        "the object provided is unrecognized (must be of type Scale): couldn't get "
        "version/kind; json parse error: invalid character 'b' looking for beginning of "
        "object key string ({bad)",
    ),
    "patch leaving metadata a number": BadRequest(
        "PATCH", "/api/v1/namespaces/{ns}", '{"metadata":5}', MERGE,
        Answer(
            422, "Invalid",
            ' "" is invalid: patch: Invalid value: "{\\"apiVersion\\":\\"v1\\",\\"kind\\":'
            '\\"Namespace\\",\\"metadata\\":5,\\"spec\\":{\\"finalizers\\":[\\"kubernetes\\"]},'
            '\\"status\\":{\\"phase\\":\\"Active\\"}}": json: cannot unmarshal number into Go '
            "struct field Namespace.metadata of type v1.ObjectMeta",
        ),
    ),
    "token request with a number for its spec": _bad(
        "POST", TOKEN, '{"spec":5}', JSON,
        _handled(
            "TokenRequest",
            "json: cannot unmarshal number into Go struct field TokenRequest.spec of type "
            "v1.TokenRequestSpec",
        ),
    ),
    "token read": BadRequest("GET", TOKEN, None, None, Answer(405, "MethodNotAllowed", NO_METHOD)),
    "create on a named object": BadRequest(
        "POST", GOOD, "{}", JSON, Answer(405, "MethodNotAllowed", NO_METHOD)
    ),
    "update of a collection": BadRequest(
        "PUT", CM, "{}", JSON, Answer(405, "MethodNotAllowed", NO_METHOD)
    ),
    "unknown group": BadRequest(
        "GET", "/apis/bogus.io/v1/things", None, None, Answer(404, None, "404 page not found\n")
    ),
    # NamespaceLifecycle's immortal namespaces, dry run or not (the real plane keeps them).
    **{
        f"delete namespace {name}{query}": BadRequest(
            "DELETE", f"/api/v1/namespaces/{name}{query}", None, None,
            Answer(
                403, "Forbidden",
                f'namespaces "{name}" is forbidden: this namespace may not be deleted',
            ),
        )
        for name in ("default", "kube-system", "kube-public")
        for query in ("", "?dryRun=All")
    },
}  # fmt: skip


def prepare(kubectl: Callable[..., object], namespace: str) -> None:
    """Make what the cases name, with `kubectl(*args)` of either server."""
    kubectl("create", "namespace", namespace)
    kubectl("-n", namespace, "create", "configmap", "good", "--from-literal=a=1")
    kubectl("-n", namespace, "create", "deployment", "web", "--image=nginx")


def _connection(kubeconfig: Path) -> tuple[http.client.HTTPSConnection, dict[str, str]]:
    """A TLS connection to the kubeconfig's server, as its user (a token or a client cert)."""
    config = yaml.safe_load(kubeconfig.read_text())
    cluster, user = config["clusters"][0]["cluster"], config["users"][0]["user"]
    ca = base64.b64decode(cluster["certificate-authority-data"]).decode()
    context = ssl.create_default_context(cadata=ca)
    context.check_hostname = False  # the servers' certificates name addresses, not hostnames
    headers = {}
    if "token" in user:
        headers["Authorization"] = f"Bearer {user['token']}"
    else:
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder, "cert"), Path(folder, "key")
            cert.write_bytes(base64.b64decode(user["client-certificate-data"]))
            key.write_bytes(base64.b64decode(user["client-key-data"]))
            context.load_cert_chain(cert, key)
    address = urllib.parse.urlsplit(cluster["server"])
    connection = http.client.HTTPSConnection(
        address.hostname or "", address.port, context=context, timeout=30
    )
    return connection, headers


def send(kubeconfig: Path, case: BadRequest, namespace: str) -> tuple[Answer, str]:
    """The answer to `case` and its content type."""
    path = case.path.format(ns=namespace)
    return request(kubeconfig, case.method, path, case.body, case.content_type)


def request(
    kubeconfig: Path, method: str, path: str, body: str | None, content_type: str | None = JSON
) -> tuple[Answer, str]:
    """The answer to a request of the kubeconfig's user, and its content type."""
    connection, headers = _connection(kubeconfig)
    if content_type:
        headers["Content-Type"] = content_type
    try:
        data = body.encode() if body is not None else None
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        answer, answer_type = response.read(), response.getheader("Content-Type", "")
    finally:
        connection.close()
    try:
        doc = json.loads(answer)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("kind") == "Status":
        return Answer(response.status, doc.get("reason"), doc.get("message", "")), answer_type
    return Answer(response.status, None, answer.decode(errors="replace")), answer_type
