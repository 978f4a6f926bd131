"""The watch cache's HTTP through the official client: GETs whose responses stay closable.

Every response is remembered until it is read or closed, so that stop() can shut the socket of
a read that blocks (a watch stream, a slow list); failures become the cache's `_ApiFailure`
(retry) or `_Missing` (none yet), with a message that names the API and the path.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from appliance.cluster.connecting import Cluster, describe_unreachable, unreachable_reason
from appliance.cluster.streams import _ApiFailure, _Missing, check_status, close_quietly
from appliance.snapshot import ContainerRef

__all__ = ["ApiCalls"]


class ApiCalls:
    """GET requests on one cluster; `close_all()` ends every one still open."""

    def __init__(self, cluster: Cluster, *, request_timeout: tuple[float, float]) -> None:
        self._cluster = cluster
        self._request_timeout = request_timeout
        self._lock = threading.Lock()
        self._open: set[Any] = set()

    def open(self, path_and_query: str, *, timeout: tuple[float, float] | None = None) -> Any:
        """The response of a GET, not read yet (give it back with `done()`)."""
        api = self._cluster.api_client
        method, url, headers, _body, _post = api.param_serialize(
            method="GET", resource_path=path_and_query, auth_settings=["BearerToken"]
        )
        headers = dict(headers or {})
        headers.setdefault("Accept", "application/json")
        try:
            response = api.call_api(
                method,
                url,
                header_params=headers,
                _request_timeout=timeout or self._request_timeout,
            )
        except Exception as exc:
            raise _ApiFailure(describe_unreachable(self._cluster.host, exc)) from exc
        with self._lock:
            self._open.add(response)
        return response

    def done(self, response: Any) -> None:
        """The response was read (or closed by its reader)."""
        with self._lock:
            self._open.discard(response)

    def close_all(self) -> None:
        """Shut every response still open, waking the threads blocked reading them."""
        with self._lock:
            responses = list(self._open)
        for response in responses:
            close_quietly(response)

    def json(self, path: str, *, optional: bool = False, kind: str | None = None) -> dict[str, Any]:
        """A GET's JSON object; raises _ApiFailure, or _Missing for an optional 404."""
        response = self.open(path)
        try:
            check_status(response, path, kind=kind, optional=optional)
            raw = response.read()
        except (_ApiFailure, _Missing):
            raise
        except Exception as exc:
            raise _ApiFailure(
                f"reading {path} from {self._cluster.host} failed: {unreachable_reason(exc)}; "
                "retrying"
            ) from exc
        finally:
            self.done(response)
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise _ApiFailure(f"{path} returned a body that is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise _ApiFailure(f"{path} returned {type(data).__name__}, expected a JSON object")
        return data

    def previous_log(self, ref: ContainerRef) -> str:
        """The last lines of a crashed container's previous log ('' when unavailable)."""
        namespace, pod, container = ref
        path = (
            f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
            f"?container={container}&previous=true&tailLines=20"
        )
        try:
            response = self.open(path)
        except _ApiFailure:
            return ""
        try:
            if int(response.status) != 200:
                return ""
            body: bytes = response.read()
            return body.decode("utf-8", "replace")
        except Exception:  # a log is an explanation, not a requirement
            return ""
        finally:
            self.done(response)
