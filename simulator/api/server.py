"""`ApiServer`: runs the fake API on uvicorn in a background thread and hands out credentials."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from pathlib import Path

import uvicorn
import yaml

from simulator.api.api_services import CrdApiServices, publish_api_services
from simulator.api.apiserver_configmaps import publish_apiserver_configmaps
from simulator.api.app import ApiApp, RequestRecord
from simulator.api.bootstrap_objects import publish_bootstrap_objects
from simulator.api.controller_accounts import publish_controller_accounts
from simulator.api.delivery import Delivery
from simulator.api.faults import FaultPlan
from simulator.api.kubernetes_service import publish_kubernetes_service
from simulator.api.namespace_publisher import NamespacePublisher
from simulator.api.rbac import TokenBinding, TokenBook, UserInfo, service_account_user
from simulator.api.role_aggregation import RoleAggregator
from simulator.api.store import ObjectStore
from simulator.api.tls import ServingCertificate, make_serving_certificate
from simulator.errors import SimulatorError
from simulator.warp import Warp

__all__ = ["ApiServer", "ApiServerError"]

DEFAULT_GIT_VERSION = "v1.31.4"  # the field log's Talos v1.12.0 appliance ran Kubernetes 1.31.4


class ApiServerError(SimulatorError):
    """The fake API could not start or stop; the message says why and what to check."""


class ApiServer:
    """The fake Kubernetes API over real HTTP on loopback.

    `start()` returns the base URL; `write_kubeconfig()` writes a file kubectl and the official
    client use unmodified; `issue_token()` makes service-account tokens whose requests go
    through RBAC; `faults` injects misbehaviour at runtime; `request_log` records every request.
    """

    def __init__(
        self,
        store: ObjectStore,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        admin_token: str | None = None,
        faults: FaultPlan | None = None,
        git_version: str = DEFAULT_GIT_VERSION,
        tls: bool = True,
        warp: Warp | None = None,
        advertise: tuple[str, int] | None = None,
    ) -> None:
        self.store = store
        # Where the `default/kubernetes` Service points (kube-apiserver's --advertise-address
        # and secure port); by default the address this server listens on.
        self.advertise = advertise
        self.host = host
        self.port = port
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.faults = faults or FaultPlan()
        self.request_log: list[RequestRecord] = []
        self.tokens = TokenBook(self.admin_token, store=store)
        # In a warped world the API reports what it still owes its clients (api/delivery.py).
        self.delivery = Delivery(store, warp) if warp is not None else None
        self.app = ApiApp(
            store,
            tokens=self.tokens,
            faults=self.faults,
            request_log=self.request_log,
            git_version=git_version,
            delivery=self.delivery,
        )
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        # kubectl only sends bearer tokens over https; plain http is for benches and raw clients.
        self.tls = tls
        self.certificate: ServingCertificate | None = None
        self._publisher: NamespacePublisher | None = None
        self._aggregator: RoleAggregator | None = None
        self._crd_services: CrdApiServices | None = None

    def start(self, *, timeout: float = 10.0) -> str:
        """Serve in a background thread; returns the base URL (`http://127.0.0.1:PORT`)."""
        if self._server is not None:
            return self.url
        if self.tls and self.certificate is None:
            self.certificate = make_serving_certificate(self.host)
        ssl: dict[str, str] = {}
        if self.certificate is not None:
            ssl = {
                "ssl_certfile": str(self.certificate.cert_file),
                "ssl_keyfile": str(self.certificate.key_file),
            }
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            server_header=False,
            date_header=False,  # the app sends Date in virtual time
            timeout_graceful_shutdown=2,
            ws_ping_interval=None,
            **ssl,  # type: ignore[arg-type]
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, name=f"fake-api-{self.port}", daemon=True)
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._server = self._thread = None
                raise ApiServerError(
                    f"the fake API did not start on {self.host}:{self.port}; is the port free?"
                )
            time.sleep(0.01)
        sockets = [s for srv in server.servers for s in srv.sockets]
        self.port = int(sockets[0].getsockname()[1])
        scheme = "https" if self.certificate is not None else "http"
        self.url = f"{scheme}://{self.host}:{self.port}"
        self.app.server_address = f"{self.host}:{self.port}"
        publish_kubernetes_service(self.store, *(self.advertise or (self.host, self.port)))
        # Its CA verifies this server's certificate; it would verify clients' as well.
        ca_pem = self.certificate.ca_pem if self.certificate is not None else None
        publish_apiserver_configmaps(self.store, ca_pem)
        # kube-apiserver's post-start hooks (RBAC policy, system priorities), then the
        # aggregation kube-controller-manager does on them and on every later ClusterRole.
        publish_bootstrap_objects(self.store)
        publish_api_services(self.store)  # the aggregator's, for each built-in group version
        self._crd_services = CrdApiServices(self.store)  # and for each a CRD serves
        self._crd_services.start()
        self._aggregator = RoleAggregator(self.store)
        self._aggregator.start()
        # The accounts kube-controller-manager's controllers act as, made as they start.
        publish_controller_accounts(self.store)
        # kube-controller-manager's objects in every namespace; their CA is the one that signs
        # this server's certificate, so an in-cluster client's verification would hold.
        self._publisher = NamespacePublisher(self.store, ca_pem)
        self._publisher.start()
        return self.url

    def stop(self) -> None:
        """Close open watches and stop the server thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        for controller in (self._publisher, self._aggregator, self._crd_services):
            if controller is not None:
                controller.stop()
        self._publisher = self._aggregator = self._crd_services = None
        if self.delivery is not None:
            self.delivery.close()
        self.app.close_streams()
        server.should_exit = True
        thread.join(timeout=0.2)
        if thread.is_alive():
            # Idle keep-alive clients (connection pools) would hold shutdown for the whole
            # graceful timeout and leave transports unclosed: cut them.
            loop = self.app.loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._abort_connections, server)
            thread.join(timeout=10)
        self._server = self._thread = None
        if self.certificate is not None:
            self.certificate.remove()
            self.certificate = None

    @staticmethod
    def _abort_connections(server: uvicorn.Server) -> None:
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()

    @property
    def ca_file(self) -> Path | None:
        """The CA certificate (PEM) clients verify the server with; None over plain http."""
        return self.certificate.ca_file if self.certificate else None

    def __enter__(self) -> ApiServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def issue_token(self, namespace: str, serviceaccount: str) -> str:
        """A bearer token for `system:serviceaccount:<ns>:<name>`; RBAC applies to it."""
        token = secrets.token_urlsafe(24)
        # As a pod's projected token: bound to the account when it exists (a test may name one
        # it never made), so deleting the account ends the token.
        account = self.store.get("v1", "serviceaccounts", serviceaccount, namespace)
        uid = str(account["metadata"]["uid"]) if account is not None else ""
        binding = TokenBinding(namespace, serviceaccount, uid) if uid else None
        self.tokens.add(token, service_account_user(namespace, serviceaccount, uid=uid), binding)
        return token

    def issue_user_token(self, user: str, groups: tuple[str, ...] = ()) -> str:
        """A bearer token for a plain user in `groups` (RBAC applies unless system:masters)."""
        token = secrets.token_urlsafe(24)
        self.tokens.add(token, UserInfo(user, (*groups, "system:authenticated")))
        return token

    def kubeconfig(self, *, token: str | None = None, user: str = "admin") -> dict[str, object]:
        """The kubeconfig document (as a dict) for this server."""
        if not self.url:
            raise ApiServerError("start() the fake API before asking for a kubeconfig")
        cluster: dict[str, str] = {"server": self.url}
        if self.certificate is not None:
            cluster["certificate-authority-data"] = base64.b64encode(
                self.certificate.ca_pem
            ).decode()
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "simulated", "cluster": cluster}],
            "users": [{"name": user, "user": {"token": token or self.admin_token}}],
            "contexts": [{"name": "simulated", "context": {"cluster": "simulated", "user": user}}],
            "current-context": "simulated",
            "preferences": {},
        }

    def write_kubeconfig(
        self, path: str | Path, *, token: str | None = None, user: str = "admin"
    ) -> Path:
        """Write a kubeconfig (http URL, bearer token) for kubectl and the official client."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(self.kubeconfig(token=token, user=user), sort_keys=False))
        target.chmod(0o600)
        return target

    def requests(
        self, *, verb: str | None = None, resource: str | None = None, user: str | None = None
    ) -> list[RequestRecord]:
        """The request log filtered by verb, resource and/or user."""
        return [
            r
            for r in list(self.request_log)
            if (verb is None or r.verb == verb)
            and (resource is None or r.resource == resource)
            and (user is None or r.user == user)
        ]
