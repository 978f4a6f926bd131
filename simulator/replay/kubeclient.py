"""A small Kubernetes HTTP client from a kubeconfig, for recording and replaying onto clusters.

The official client's kubeconfig loader resolves every kind of credential (tokens, client
certificates, exec plugins, CA data) into files; requests then go through httpx, because the
recorder needs each response's `Date` header (the API server's clock, virtual time on the fake
API) and line-by-line watch streams, which the generated client hides.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from simulator.api.kinds import KindInfo, split_api_version
from simulator.errors import SimulatorError
from simulator.world.scenario_limits import ScenarioFileError, read_scenario_text

__all__ = ["ApiError", "KubeClient", "OpenStream", "RawAnswer"]

Obj = dict[str, Any]


@dataclass(frozen=True)
class RawAnswer:
    """An answer as the server sent it; `lines` are a watch stream's lines, as far as read."""

    code: int
    content_type: str
    body: bytes
    lines: tuple[bytes, ...] = ()


class OpenStream:
    """A streamed answer whose head has arrived; `read` takes its lines until the deadline."""

    def __init__(self, response: httpx.Response, deadline: float, what: str) -> None:
        self._response = response
        self._deadline = deadline
        self._what = what

    @property
    def code(self) -> int:
        return self._response.status_code

    def read(self) -> RawAnswer:
        """The stream as far as it came by the deadline (a stream that sent nothing for the
        read timeout is over); then the connection is closed."""
        response = self._response
        kind = response.headers.get("content-type", "")
        try:
            if response.status_code >= 300:
                return RawAnswer(response.status_code, kind, response.read())
            lines: list[bytes] = []
            try:
                for line in response.iter_lines():
                    if line.strip():
                        lines.append(line.encode())
                    if time.monotonic() > self._deadline:
                        break
            except httpx.ReadTimeout:
                pass  # nothing more within the time given: the stream so far is the answer
            return RawAnswer(response.status_code, kind, b"", tuple(lines))
        except httpx.HTTPError as exc:
            raise ApiError(f"{self._what} failed: {exc}") from exc
        finally:
            response.close()


class ApiError(SimulatorError):
    """A request to the cluster failed; carries the HTTP status and the API's Status reason."""

    def __init__(self, message: str, *, code: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason


_KUBECONFIG_LIMIT = 4 * 1024 * 1024


def _check_kubeconfig(path: Path) -> None:
    """A bounded regular file of YAML holding clusters (a FIFO, /dev/zero or deep nesting is
    one line, not a hang, an exhausted memory or a traceback)."""
    try:
        text = read_scenario_text(path, limit=_KUBECONFIG_LIMIT)
        document = yaml.safe_load(text)
    except ScenarioFileError as exc:
        raise SimulatorError(f"kubeconfig {path}: {exc.reason}") from None
    except yaml.YAMLError:
        raise SimulatorError(f"kubeconfig {path} is not valid YAML") from None
    except RecursionError:
        raise SimulatorError(f"kubeconfig {path} is nested too deeply to be a kubeconfig") from None
    if not isinstance(document, dict) or not isinstance(document.get("clusters"), list):
        raise SimulatorError(f"kubeconfig {path} has no clusters; it is not a kubeconfig")


def _first_words(exc: BaseException) -> str:
    """The client library's words, cut before it quotes the kubeconfig (keys, passwords)."""
    text = (str(exc).splitlines() or [""])[0]
    return re.split(r"[{\[]", text, maxsplit=1)[0].rstrip(" :,/") or type(exc).__name__


@contextlib.contextmanager
def _client_complaints() -> Iterator[list[str]]:
    """What the client library logs instead of raising while it loads a kubeconfig (a failed
    credential plugin: `exec: process returned 1`, then it carries on without credentials),
    kept off stderr for the caller to raise, as kubectl stops there."""
    complaints: list[str] = []

    loading = threading.get_ident()  # another thread's load keeps its own complaints

    def collect(record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR or not record.pathname.endswith("kube_config.py"):
            return True
        if record.thread != loading:
            return True
        complaints.append(record.getMessage())
        return False

    root = logging.getLogger()
    root.addFilter(collect)
    try:
        yield complaints
    finally:
        root.removeFilter(collect)


class KubeClient:
    """Requests against the cluster a kubeconfig points at; remembers the server's clock."""

    def __init__(self, kubeconfig: str | Path, *, context: str | None = None) -> None:
        # Imported here: `kubernetes` brings its whole config machinery (requests, oauthlib,
        # pydantic: 0.2 s of CPU), and `appliance-sim run` imports this module for its
        # subcommands without ever making a client.
        from kubernetes import config as kube_config
        from kubernetes.client import Configuration

        cfg = Configuration()
        _check_kubeconfig(Path(kubeconfig))
        try:
            with _client_complaints() as complaints:
                kube_config.load_kube_config(  # type: ignore[no-untyped-call]
                    config_file=str(kubeconfig), context=context, client_configuration=cfg
                )
        except (kube_config.ConfigException, ImportError, LookupError, OSError, TypeError) as exc:
            raise SimulatorError(
                f"kubeconfig {kubeconfig} is not usable: {_first_words(exc)}"
            ) from None
        except (AttributeError, ValueError) as exc:
            raise SimulatorError(
                f"kubeconfig {kubeconfig} is not usable: {type(exc).__name__} ({_first_words(exc)})"
            ) from None
        if complaints:
            raise SimulatorError(
                f"kubeconfig {kubeconfig}: getting the user's credentials failed: "
                f"{_first_words(Exception(complaints[0]))}"
            )
        self.server = str(cfg.host).rstrip("/")
        headers = {"Accept": "application/json"}
        # The loader files a token under "BearerToken" (older clients: "authorization").
        keys = cfg.api_key or {}
        auth = keys.get("BearerToken") or keys.get("authorization")
        if auth:
            headers["Authorization"] = str(auth)
        verify: ssl.SSLContext | bool = True
        if self.server.startswith("https"):
            if cfg.verify_ssl:
                context_ = ssl.create_default_context(cafile=cfg.ssl_ca_cert or None)
            else:
                context_ = ssl.create_default_context()
                context_.check_hostname = False
                context_.verify_mode = ssl.CERT_NONE
            if cfg.cert_file and cfg.key_file:
                context_.load_cert_chain(cfg.cert_file, cfg.key_file)
            verify = context_
        self._http = httpx.Client(
            base_url=self.server, headers=headers, verify=verify, timeout=30.0
        )
        self._lock = threading.Lock()
        # The connections of the watches being read now: `close` cuts them.
        self._watching: set[Any] = set()
        self._closed = False
        self._resources: dict[tuple[str, str], KindInfo] = {}
        self._discovered: set[str] = set()
        self.server_now: datetime | None = None

    def close(self) -> None:
        """Close the connection pool, and end the watches other threads are reading.

        Closing the pool alone leaves a watch blocked in its read until the server ends it
        (minutes), and a kube-apiserver asked to stop waits for it; shutting the socket down
        wakes the reader (its `watch` raises, as on any cut stream).
        """
        with self._lock:
            self._closed = True
            watching = list(self._watching)
        for stream in watching:
            connection = stream.get_extra_info("socket")
            if connection is not None:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        self._http.close()

    def _unless_closed(self, response: httpx.Response) -> None:
        """Close the connection of an answer that arrived after `close`.

        The pool closes the connections it holds as it closes, and then forgets them all; one
        still in its TLS handshake then (another thread's request) is not closed, connects
        afterwards, and is left open for the garbage collector to find (a ResourceWarning,
        in whatever runs then). Each answer is checked after it arrived: `close` either saw
        its connection connected, or had said so before this check.
        """
        with self._lock:
            closed = self._closed
        stream = response.extensions.get("network_stream")
        if closed and stream is not None:
            with contextlib.suppress(OSError):
                stream.close()

    # ----------------------------------------------------------------- requests

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Obj:
        """One request; the decoded JSON answer, or ApiError naming the path and reason."""
        content = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if content is not None else {}
        try:
            response = self._http.request(
                method, path, content=content, params=params, headers=headers
            )
            self._unless_closed(response)
        except httpx.HTTPError as exc:
            raise ApiError(
                f"{method} {self.server}{path} failed: {exc}; check the kubeconfig's server"
            ) from exc
        self._saw_date(response.headers.get("date"))
        if response.status_code >= 400:
            raise _api_error(method, path, response.status_code, response.content)
        if not response.content:
            return {}
        answer = response.json()
        return answer if isinstance(answer, dict) else {}

    def send(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        content: bytes = b"",
    ) -> RawAnswer:
        """One request exactly as given (headers and body untouched), answered raw (a stream,
        such as a watch: `open_stream`). Transport failures raise ApiError."""
        url = path + (f"?{query}" if query else "")
        try:
            response = self._http.request(
                method, url, content=content or None, headers=dict(headers or {})
            )
            self._unless_closed(response)
        except httpx.HTTPError as exc:
            raise ApiError(f"{method} {self.server}{path} failed: {exc}") from exc
        return RawAnswer(
            response.status_code, response.headers.get("content-type", ""), response.content
        )

    def open_stream(
        self,
        method: str,
        path: str,
        *,
        seconds: float,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        content: bytes = b"",
    ) -> OpenStream:
        """Send a request answered by a stream (a watch, `logs -f`), exactly as given, and wait
        for the answer's status line and headers; `read()` the stream, for at most `seconds`
        from now, from this thread or another. Transport failures raise ApiError (here or
        from `read`)."""
        url = path + (f"?{query}" if query else "")
        deadline = time.monotonic() + seconds
        timeout = httpx.Timeout(30.0, read=seconds)
        try:
            request = self._http.build_request(
                method, url, content=content or None, headers=dict(headers or {}), timeout=timeout
            )
            response = self._http.send(request, stream=True)
            self._unless_closed(response)
        except httpx.HTTPError as exc:
            raise ApiError(f"{method} {self.server}{path} failed: {exc}") from exc
        return OpenStream(response, deadline, f"{method} {self.server}{path}")

    def watch(self, path: str, *, resource_version: str, timeout: int = 300) -> Iterator[Obj]:
        """Watch events (`{"type", "object"}`) from `resource_version`, with bookmarks."""
        params = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout),
        }
        with self._http.stream(
            "GET", path, params=params, timeout=httpx.Timeout(30.0, read=timeout + 30.0)
        ) as response:
            self._saw_date(response.headers.get("date"))
            if response.status_code >= 400:
                raise _api_error("WATCH", path, response.status_code, response.read())
            stream = response.extensions.get("network_stream")
            if stream is not None:
                with self._lock:
                    self._watching.add(stream)
            self._unless_closed(response)
            try:
                for line in response.iter_lines():
                    if line.strip():
                        yield json.loads(line)
            finally:
                with self._lock:
                    self._watching.discard(stream)

    def now(self) -> datetime | None:
        """The server's clock, read from a fresh answer's Date header (None when it sends none)."""
        self.request("GET", "/version")
        return self.server_now

    def _saw_date(self, header: str | None) -> None:
        if not header:
            return
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        with self._lock:
            self.server_now = when.astimezone(UTC)

    # ----------------------------------------------------------------- discovery

    def resource(self, api_version: str, kind: str) -> KindInfo | None:
        """The served resource of a kind (asks discovery again on a miss: CRDs come and go)."""
        key = (api_version, kind)
        with self._lock:
            found = self._resources.get(key)
        if found is not None:
            return found
        self._discover(api_version)
        with self._lock:
            return self._resources.get(key)

    def forget(self, api_version: str) -> None:
        """Drop what discovery said about a group version (after a CRD change)."""
        with self._lock:
            self._discovered.discard(api_version)
            for key in [k for k in self._resources if k[0] == api_version]:
                del self._resources[key]

    def _discover(self, api_version: str) -> None:
        group, version = split_api_version(api_version)
        path = "/api/v1" if not group else f"/apis/{group}/{version}"
        try:
            answer = self.request("GET", path)
        except ApiError as exc:
            if exc.code == 404:
                return
            raise
        with self._lock:
            self._discovered.add(api_version)
            for item in answer.get("resources") or []:
                name = str(item.get("name", ""))
                if "/" in name:  # subresources (pods/status, pods/log)
                    continue
                self._resources[(api_version, str(item.get("kind")))] = KindInfo(
                    group=group,
                    version=version,
                    kind=str(item.get("kind")),
                    plural=name,
                    namespaced=bool(item.get("namespaced")),
                )


def _api_error(method: str, path: str, code: int, content: bytes) -> ApiError:
    reason, message = "", content.decode(errors="replace")[:300]
    try:
        status = json.loads(content)
        reason = str(status.get("reason", ""))
        message = str(status.get("message", message))
    except (ValueError, AttributeError):
        pass
    return ApiError(f"{method} {path}: {code} {reason}: {message}", code=code, reason=reason)
