"""The simulated registry over real HTTP: the OCI distribution API the way ghcr.io speaks it,
with its token dance, over the same `RegistryContents` the kubelet model pulls from.

The token service (`/token`) works like the distribution token server: anonymous requests get a
token without any account; Basic credentials (GET) or an OAuth2 password or refresh-token grant
(POST, Docker's `identitytoken`) get one for that account, and wrong credentials a 401. A private
repository's manifests and tags need a token issued to an account."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulator.clock import VirtualClock
from simulator.neighbours.registry import (
    CONFIG_MEDIA_TYPE,
    INDEX_MEDIA_TYPE,
    LAYER_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    ImageRef,
    ImageSpec,
    RegistryContents,
    parse_image_ref,
)
from simulator.neighbours.serving import LoopbackServer

__all__ = [
    "RegistryRequest",
    "RegistryServer",
    "image_id",
]


@dataclass(frozen=True)
class RegistryRequest:
    """One request the registry server answered (for tests and the scenario log)."""

    at: datetime
    method: str
    path: str
    status: int
    authorized: bool


def _digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _canonical(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


@dataclass(frozen=True)
class _Artifacts:
    index: bytes
    manifest: bytes
    config: bytes


def _artifacts(ref: ImageRef, spec: ImageSpec) -> _Artifacts:
    """A plausible, deterministic OCI index -> manifest -> config/layers for `ref`."""
    config = _canonical(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": {"org.opencontainers.image.source": f"https://{ref}"}},
            "rootfs": {"type": "layers", "diff_ids": []},
        }
    )
    # Three layers whose sizes sum to sizeBytes, as a real multi-layer image would.
    total = spec.size_bytes
    sizes = [total // 2, total // 3]
    sizes.append(total - sum(sizes))
    layers = [
        {
            "mediaType": LAYER_MEDIA_TYPE,
            "digest": _digest(f"{ref}#layer{i}".encode()),
            "size": size,
        }
        for i, size in enumerate(sizes)
    ]
    manifest = _canonical(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": {
                "mediaType": CONFIG_MEDIA_TYPE,
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": layers,
        }
    )
    index = _canonical(
        {
            "schemaVersion": 2,
            "mediaType": INDEX_MEDIA_TYPE,
            "manifests": [
                {
                    "mediaType": MANIFEST_MEDIA_TYPE,
                    "digest": _digest(manifest),
                    "size": len(manifest),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    )
    return _Artifacts(index=index, manifest=manifest, config=config)


def image_id(ref: str, spec: ImageSpec) -> str:
    """What the kubelet reports as a pulled container's `imageID`: the repository at the digest
    this registry serves for `ref` (`docker.io/library/nginx@sha256:...`)."""
    parsed = parse_image_ref(ref)
    if parsed.digest:
        return f"{parsed.host}/{parsed.repository}@{parsed.digest}"
    return f"{parsed.host}/{parsed.repository}@{_digest(_artifacts(parsed, spec).index)}"


class RegistryServer:
    """An OCI distribution endpoint for one registry host (default `ghcr.io`) on loopback HTTP.

    `url` is what production code is given instead of `https://ghcr.io`. Tokens are pull tokens
    as ghcr.io issues them (anonymous, or for an account); a request without one gets the 401
    challenge. `basic_auth=True` is a registry:2 with htpasswd instead: no token service, a
    `Basic` challenge, and every request needs an account's user and password.
    """

    def __init__(
        self,
        contents: RegistryContents,
        *,
        clock: VirtualClock,
        host: str = "ghcr.io",
        bind: str = "127.0.0.1",
        port: int = 0,
        basic_auth: bool = False,
    ) -> None:
        self.contents = contents
        # A registry:2 with htpasswd: every request needs an account's Basic credentials.
        self.basic_auth = basic_auth
        self.clock = clock
        self.registry_host = host
        self._lock = threading.Lock()
        self._log: list[RegistryRequest] = []
        self._server = LoopbackServer(_make_handler(self), host=bind, port=port)

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:41234`."""
        return self._server.url

    def start(self) -> RegistryServer:
        """Start serving in a background thread; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.stop()

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def requests(self) -> list[RegistryRequest]:
        """Every request answered so far, oldest first."""
        with self._lock:
            return list(self._log)

    def record(self, method: str, path: str, status: int, *, authorized: bool) -> None:
        """Append one line to the request log."""
        with self._lock:
            self._log.append(RegistryRequest(self.clock.now(), method, path, status, authorized))

    def issue_token(self, scope: str, *, user: str = "") -> str:
        """A pull token for `scope`, anonymous or for `user` (opaque, like ghcr.io's `djE6...`)."""
        return base64.b64encode(f"v1:{user}:{scope}".encode()).decode()

    def token_allows(self, token: str, repository: str) -> bool:
        """Whether a bearer token grants pull on `repository` (private ones need an account)."""
        try:
            decoded = base64.b64decode(token.encode(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        version, user, scope = [*decoded.split(":", 2), "", ""][:3]
        if version != "v1" or scope != f"repository:{repository}:pull":
            return False
        return bool(user) or not self.contents.is_private(self.registry_host, repository)

    def account_for(
        self, *, basic: str | None = None, form: Mapping[str, str] | None = None
    ) -> str | None:
        """The username that Basic credentials or an OAuth2 grant prove; None when they do not."""
        if basic is not None:
            try:
                user, _, password = base64.b64decode(basic, validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            account = self.contents.accounts.get(user)
            return user if account is not None and account.password == password else None
        form = form or {}
        if form.get("grant_type") == "password":
            account = self.contents.accounts.get(form.get("username", ""))
            if account is not None and account.password == form.get("password"):
                return form.get("username")
        if form.get("grant_type") == "refresh_token":
            for user, account in self.contents.accounts.items():
                if account.identity_token and account.identity_token == form.get("refresh_token"):
                    return user
        return None

    def resolve(self, repository: str, reference: str) -> tuple[ImageRef, ImageSpec] | None:
        """Find the image for a manifest request by tag, or by one of its digests."""
        if reference.startswith("sha256:"):
            for key in self.contents.images:
                ref = parse_image_ref(key)
                if ref.host != self.registry_host or ref.repository != repository:
                    continue
                spec = self.contents.lookup(key)
                if spec is None:
                    continue
                art = _artifacts(ref, spec)
                if reference in (_digest(art.index), _digest(art.manifest)):
                    return ref, spec
            return None
        ref = ImageRef(host=self.registry_host, repository=repository, tag=reference)
        spec = self.contents.lookup(str(ref))
        return (ref, spec) if spec is not None else None


def _make_handler(registry: RegistryServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "simulated-registry"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the registry keeps its own request log."""

        def do_GET(self) -> None:
            self._route(head=False)

        def do_HEAD(self) -> None:
            self._route(head=True)

        def _send(
            self,
            status: int,
            body: bytes,
            *,
            head: bool,
            content_type: str = "application/json",
            headers: Mapping[str, str] | None = None,
            authorized: bool = False,
        ) -> None:
            # Logged before answering, so a client that has its answer also sees it in the log.
            registry.record(self.command, self.path, status, authorized=authorized)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _error(self, status: int, code: str, message: str, *, head: bool, detail: Any) -> None:
            body = _canonical({"errors": [{"code": code, "message": message, "detail": detail}]})
            self._send(status, body, head=head)

        def _challenge(self, repository: str | None, *, head: bool) -> None:
            realm = f"{registry.url}/token"
            value = f'Bearer realm="{realm}",service="{registry.registry_host}"'
            if registry.basic_auth:
                value = 'Basic realm="Registry Realm"'
            elif repository:
                value += f',scope="repository:{repository}:pull"'
            body = _canonical(
                {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
            )
            self._send(401, body, head=head, headers={"WWW-Authenticate": value})

        def _bearer(self) -> str | None:
            header = self.headers.get("Authorization", "")
            if header.lower().startswith("bearer "):
                return header[7:].strip()
            return None

        def do_POST(self) -> None:
            """OAuth2 grants at the token service (`docker login` with an identity token)."""
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if urlsplit(self.path).path != "/token":
                self._error(404, "NOT_FOUND", "page not found", head=False, detail=self.path)
                return
            self._token(registry.account_for(form=form), form.get("scope", ""), head=False)

        def _token(self, user: str | None, scope: str, *, head: bool) -> None:
            if user is None:
                body = _canonical(
                    {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}
                )
                self._send(401, body, head=head)
                return
            token = registry.issue_token(scope, user=user)
            body = _canonical({"token": token, "access_token": token})
            self._send(200, body, head=head, authorized=bool(user))

        def _basic(self) -> str | None:
            header = self.headers.get("Authorization", "")
            return header[6:].strip() if header.lower().startswith("basic ") else None

        def _allowed(self, repository: str | None) -> bool:
            """Whether the request's credentials grant pull on `repository` (None: `/v2/`)."""
            if registry.basic_auth:
                basic = self._basic()
                return basic is not None and registry.account_for(basic=basic) is not None
            bearer = self._bearer()
            if bearer is None:
                return False
            return repository is None or registry.token_allows(bearer, repository)

        def _route(self, *, head: bool) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            if path == "/token" and not registry.basic_auth:
                basic = self._basic()
                # Without credentials: an anonymous token (no account); with: that account's.
                user = "" if basic is None else registry.account_for(basic=basic)
                self._token(user, parse_qs(parts.query).get("scope", [""])[0], head=head)
                return
            if path in ("/v2", "/v2/"):
                if self._allowed(None):
                    self._send(200, b"{}", head=head, authorized=True)
                else:
                    self._challenge(None, head=head)
                return
            if not path.startswith("/v2/"):
                self._error(404, "NOT_FOUND", "page not found", head=head, detail=path)
                return
            rest = path[len("/v2/") :]
            for marker in ("/manifests/", "/tags/list", "/blobs/"):
                if marker in rest:
                    repository, _, reference = rest.partition(marker)
                    break
            else:
                self._error(404, "NOT_FOUND", "page not found", head=head, detail=path)
                return
            if not self._allowed(repository):
                self._challenge(repository, head=head)
                return
            if marker == "/tags/list":
                self._tags(repository, head=head)
            elif marker == "/manifests/":
                self._manifest(repository, reference, head=head)
            else:
                self._blob(repository, reference, head=head)

        def _tags(self, repository: str, *, head: bool) -> None:
            tags = registry.contents.tags(registry.registry_host, repository)
            if tags is None:
                self._error(
                    404,
                    "NAME_UNKNOWN",
                    "repository name not known to registry",
                    head=head,
                    detail={"name": repository},
                )
                return
            body = _canonical({"name": repository, "tags": tags})
            self._send(200, body, head=head, authorized=True)

        def _manifest(self, repository: str, reference: str, *, head: bool) -> None:
            found = registry.resolve(repository, reference)
            if found is None:
                self._error(
                    404,
                    "MANIFEST_UNKNOWN",
                    "manifest unknown",
                    head=head,
                    detail={"name": repository, "reference": reference},
                )
                return
            art = _artifacts(*found)
            accept = self.headers.get("Accept", "")
            want_index = reference == _digest(art.index) or (
                not reference.startswith("sha256:")
                and (not accept or INDEX_MEDIA_TYPE in accept or "*/*" in accept)
            )
            body, media = (
                (art.index, INDEX_MEDIA_TYPE) if want_index else (art.manifest, MANIFEST_MEDIA_TYPE)
            )
            self._send(
                200,
                body,
                head=head,
                content_type=media,
                headers={"Docker-Content-Digest": _digest(body)},
                authorized=True,
            )

        def _blob(self, repository: str, digest: str, *, head: bool) -> None:
            for key in registry.contents.images:
                ref = parse_image_ref(key)
                spec = registry.contents.lookup(key)
                if ref.repository != repository or spec is None:
                    continue
                art = _artifacts(ref, spec)
                if digest == _digest(art.config):
                    self._send(
                        200,
                        art.config,
                        head=head,
                        content_type="application/octet-stream",
                        headers={"Docker-Content-Digest": digest},
                        authorized=True,
                    )
                    return
            self._error(
                404,
                "BLOB_UNKNOWN",
                "blob unknown to registry",
                head=head,
                detail={"digest": digest},
            )

    return Handler
