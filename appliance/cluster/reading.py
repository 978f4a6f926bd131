"""Reading the cluster: one list call per kind, raw JSON kept as the API wrote it.

Raw JSON (not the client's model objects) keeps a live read identical in shape to a
`kubectl get -o json` dump and is much faster than model deserialisation.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from appliance.cluster.connecting import (
    REQUEST_TIMEOUT,
    Cluster,
    ClusterError,
    describe_unreachable,
)
from appliance.snapshot import ContainerRef, RawObject, Snapshot
from appliance.view_memo import LIVE_VIEWS

__all__ = [
    "APP_URL_KEY",
    "STATUS_CONFIG",
    "count_seeded_users",
    "crashed_containers",
    "read_app_url",
    "read_previous_logs",
    "read_snapshot",
    "server_time",
]

# The bootstrapper records the app URL here; the status service reads it as an env var, and
# `appliance status` reads it when no --app-url is given.
STATUS_CONFIG = ("appliance-system", "appliance-status-config")
APP_URL_KEY = "appUrl"

# Lines of a crashed container's previous log kept for the detectors: the fatal line is last.
LOG_TAIL_LINES = 20

_log = logging.getLogger(__name__)

# (snapshot field, kind, apiVersions to try in order, path template). Flux API versions moved over
# time (v1beta2 -> v1, helm v2beta1 -> v2): try the newest first and fall back on 404.
_RESOURCES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("nodes", "Node", ("v1",), "nodes"),
    ("pods", "Pod", ("v1",), "pods"),
    ("events", "Event", ("v1",), "events"),
    ("deployments", "Deployment", ("apps/v1",), "deployments"),
    ("statefulsets", "StatefulSet", ("apps/v1",), "statefulsets"),
    ("jobs", "Job", ("batch/v1",), "jobs"),
    ("pvcs", "PersistentVolumeClaim", ("v1",), "persistentvolumeclaims"),
    (
        "git_repositories",
        "GitRepository",
        ("source.toolkit.fluxcd.io/v1", "source.toolkit.fluxcd.io/v1beta2"),
        "gitrepositories",
    ),
    (
        "kustomizations",
        "Kustomization",
        ("kustomize.toolkit.fluxcd.io/v1", "kustomize.toolkit.fluxcd.io/v1beta2"),
        "kustomizations",
    ),
    (
        "helm_releases",
        "HelmRelease",
        (
            "helm.toolkit.fluxcd.io/v2",
            "helm.toolkit.fluxcd.io/v2beta2",
            "helm.toolkit.fluxcd.io/v2beta1",
        ),
        "helmreleases",
    ),
)

_SEED_QUERY = (
    "PGPASSWORD=$POSTGRES_PASSWORD psql -U postgres -d server -tAc 'select count(*) from users;'"
)


class _Missing(Exception):
    """The API does not serve this resource (404): a Flux CRD not installed yet."""


def _path(api_version: str, plural: str) -> str:
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{prefix}/{plural}"


def _get(cluster: Cluster, path: str, *, accept: str = "application/json") -> bytes:
    # The client is imported by then (connect() made it); importing it here keeps processes
    # that never talk to a cluster (a bootstrap run failing in the host layer) from loading it.
    from kubernetes.client.exceptions import ApiException

    api = cluster.api_client
    method, url, headers, body, post_params = api.param_serialize(
        "GET", path, header_params={"Accept": accept}, auth_settings=["BearerToken"]
    )
    response = api.call_api(
        method, url, header_params=headers, body=body, post_params=post_params,
        _request_timeout=REQUEST_TIMEOUT,
    )  # fmt: skip
    data: bytes = response.read()
    if response.status == 404:
        raise _Missing(path)
    if not 200 <= response.status <= 299:
        raise ApiException(status=response.status, reason=response.reason)
    return data


def _get_json(cluster: Cluster, path: str) -> dict[str, Any]:
    decoded = json.loads(_get(cluster, path))
    if not isinstance(decoded, dict):
        raise ValueError(f"GET {path}: expected a JSON object, got {type(decoded).__name__}")
    return decoded


def read_app_url(cluster: Cluster) -> str | None:
    """The app URL the bootstrapper recorded in the cluster; None when there is none to read."""
    namespace, name = STATUS_CONFIG
    try:
        config = _get_json(cluster, f"/api/v1/namespaces/{namespace}/configmaps/{name}")
    except Exception:  # absent, forbidden or unreachable: the caller probes nothing, as before
        return None
    data = config.get("data")
    value = data.get(APP_URL_KEY) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def read_snapshot(cluster: Cluster) -> Snapshot:
    """List every kind the engine needs, once each, across all namespaces.

    Missing Flux CRDs are recorded, not raised; an unreachable API yields a Snapshot whose
    `api_error` says why (the engine turns it into a platform blocker).
    """
    from kubernetes.client.exceptions import ApiException

    found: dict[str, Any] = {}
    missing: list[str] = []
    errors: list[str] = []
    for field_name, kind, versions, plural in _RESOURCES:
        items: list[RawObject] | None = None
        for version in versions:
            try:
                payload = _get_json(cluster, _path(version, plural))
            except _Missing:
                continue
            except ApiException as exc:
                if field_name == "nodes":
                    # The first call tells whether the API answers at all.
                    return _unreachable(cluster, f"{cluster.host}: HTTP {exc.status} {exc.reason}")
                errors.append(f"list {plural}: HTTP {exc.status} {exc.reason}")
                break
            except Exception as exc:  # any transport failure means unreachable
                return _unreachable(cluster, describe_unreachable(cluster.host, exc))
            raw_items = payload.get("items") or []
            items = []
            for item in raw_items:
                if isinstance(item, dict):
                    # List responses omit kind/apiVersion per item; kubectl adds them, so do we.
                    item.setdefault("kind", kind)
                    item.setdefault("apiVersion", version)
                    items.append(item)
            break
        if items is None:
            if kind in {"GitRepository", "Kustomization", "HelmRelease"}:
                missing.append(kind)
            items = []
        found[field_name] = tuple(items)
    now = cluster.last_server_time or datetime.now(tz=UTC)
    logs = read_previous_logs(cluster, crashed_containers(found["pods"]))
    return Snapshot(
        server_time=now,
        source="live",
        missing_kinds=tuple(missing),
        read_errors=tuple(errors),
        container_logs=logs,
        **found,
    )


def read_previous_logs(cluster: Cluster, refs: list[ContainerRef]) -> dict[ContainerRef, str]:
    """The tail of each container's previous log (`kubectl logs --previous --tail 20`).

    Best effort: a refused (403) or vanished log is simply absent; the crash is still reported
    from the container status, only without its explanation.
    """
    logs: dict[ContainerRef, str] = {}
    for namespace, pod, container in refs:
        path = (
            f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
            f"?container={container}&previous=true&tailLines={LOG_TAIL_LINES}"
        )
        try:
            text = _get(cluster, path, accept="text/plain").decode("utf-8", "replace")
        except Exception:  # forbidden, gone, or the API hiccuped: the status goes on without it
            _log.debug("previous log of %s/%s/%s unreadable", namespace, pod, container)
            continue
        if text.strip():
            logs[(namespace, pod, container)] = text
    return logs


def _unreachable(cluster: Cluster, reason: str) -> Snapshot:
    now = cluster.last_server_time or datetime.now(tz=UTC)
    return Snapshot(server_time=now, source="live", api_error=reason)


def server_time(cluster: Cluster) -> datetime:
    """The API server's clock, from the Date header of a cheap request (/version)."""
    try:
        _get_json(cluster, "/version")
    except Exception as exc:  # the caller needs one error type
        raise ClusterError(f"{describe_unreachable(cluster.host, exc)} ({cluster.origin})") from exc
    when = cluster.last_server_time
    if when is None:
        raise ClusterError(f"Kubernetes API at {cluster.host} sent no Date header")
    return when


def count_seeded_users(
    cluster: Cluster, *, namespace: str = "msp", pod: str = "db-0"
) -> int | None:
    """Users in the app database, by `psql` exec'd in the Postgres pod; None when not measurable.

    None covers a forbidden exec (403: the in-cluster status service has no exec right), a
    missing pod, or any failure of the query: the count is then unverified, never guessed.
    """
    ws: Any = None
    try:
        ws = _exec(cluster, namespace, pod, ["sh", "-c", _SEED_QUERY])
        ws.run_forever(timeout=REQUEST_TIMEOUT[1])
        out = ws.read_stdout(timeout=0) or ""
        code = ws.returncode
    except Exception:  # forbidden, gone or broken: all mean "not measured"
        return None
    finally:
        _close_exec(ws)
    if code not in (0, None):
        return None
    match = re.search(r"^\s*(\d+)\s*$", out, re.MULTILINE)
    return int(match.group(1)) if match else None


def _exec(cluster: Cluster, namespace: str, pod: str, command: list[str]) -> Any:
    """An exec websocket (stdout and stderr, no stdin), not run yet.

    The request `kubernetes.stream.stream(CoreV1Api.connect_get_namespaced_pod_exec, ...)`
    makes, without loading CoreV1Api (half a second of import for one call) and without
    stream()'s swap of the client's request method, which would send a watch cache's requests
    on the same client as websockets meanwhile.
    """
    from kubernetes.stream.ws_client import websocket_call

    api = cluster.api_client
    method, url, headers, _body, _post = api.param_serialize(
        method="GET",
        resource_path="/api/v1/namespaces/{namespace}/pods/{name}/exec",
        path_params={"namespace": namespace, "name": pod},
        query_params=[
            ("command", command),
            ("stderr", True),
            ("stdin", False),
            ("stdout", True),
            ("tty", False),
        ],
        header_params={"Accept": "*/*"},
        auth_settings=["BearerToken"],
        collection_formats={"command": "multi"},
    )
    return websocket_call(  # type: ignore[no-untyped-call]
        api.configuration, method, url, headers=headers, _preload_content=False
    )


def _close_exec(ws: Any) -> None:
    """Close the exec websocket AND its socket: after the server's close frame, the client's
    close() alone leaves the TLS socket open (a ResourceWarning, a leaked fd per status)."""
    if ws is None:
        return
    try:
        ws.close()
    except Exception:  # closing is best effort; the shutdown below still runs
        _log.debug("exec websocket close failed", exc_info=True)
    raw = getattr(ws, "sock", None)
    shutdown = getattr(raw, "shutdown", None)
    if callable(shutdown):
        try:
            shutdown()
        except OSError:
            _log.debug("exec socket shutdown failed", exc_info=True)


def crashed_containers(pods: Iterable[RawObject], *, limit: int = 8) -> list[ContainerRef]:
    """Containers of not-ready pods whose last run failed without a termination message.

    Those are the ones whose previous log is worth one read: the kubelet copies nothing into
    `lastState.terminated.message` unless the pod asks for FallbackToLogsOnError. Bounded, so a
    crash-looping cluster costs a few log reads, not one per pod.
    """
    found: list[ContainerRef] = []
    for raw in pods:
        pod = LIVE_VIEWS.pod(raw)  # the evaluation of the same snapshot reads them too
        if pod is None or pod.ref.namespace is None or not pod.has_status:
            continue
        for container in pod.containers:
            last = container.last_terminated
            if (
                not container.ready
                and container.name is not None
                and last is not None
                and last.exit_code not in (None, 0)
                and not last.message
            ):
                found.append((pod.ref.namespace, pod.ref.name, container.name))
                if len(found) >= limit:
                    return found
    return found
