"""etcd, kube-apiserver and kube-controller-manager as plain processes on a loopback address.

`ControlPlane(binaries).start()` picks a free `127.43.x.y` (so parallel runs never collide and
every component keeps its real port: etcd 2379/2380, the API server 6443), writes the PKI, starts
the three programs in order, each once the one before answers, and writes an admin kubeconfig.
`stop()` ends every process it started (SIGTERM, then SIGKILL) and removes the state folder
unless it was given. There is no kubelet and no scheduler: the simulator's node binds pods and
writes their status through the API (`simulator.controlplane.node`).
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from simulator.api.store.pod_security import KUBE_APISERVER, PodSecurityConfig
from simulator.controlplane.pki import ControlPlanePki, kubeconfig_document, write_kubeconfig
from simulator.errors import SimulatorError
from simulator.lifecycle import terminate_group
from simulator.neighbours.addresses import choose_node_address

__all__ = ["ControlPlane", "ControlPlaneError"]

ETCD_PORT, ETCD_PEER_PORT, API_PORT = 2379, 2380, 6443
SERVICE_CIDR = "10.96.0.0/16"
# Every on-by-default controller but node IPAM (pods get their IPs from the simulated kubelet)
# and certificate signing (no kubelet asks for a certificate).
CONTROLLERS = (
    "*,-node-ipam-controller,-certificatesigningrequest-signing-controller,"
    "-certificatesigningrequest-approving-controller"
)
_START_TIMEOUT = 180.0  # a loaded 2-core CI machine starts kube-apiserver in 10-40s


class ControlPlaneError(SimulatorError):
    """A component did not start; the message names it and ends with its log's last lines."""


@dataclass
class _Component:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class ControlPlane:
    """A running control plane; `kubeconfig` is the admin's (client certificate, system:masters)."""

    binaries: Mapping[str, Path]
    folder: Path | None = None
    address: str = ""
    extra_apiserver_flags: Sequence[str] = ()
    # Pod Security admission's defaults and exemptions (TALOS: a Talos node's), written to the
    # file `--admission-control-config-file` names; kube-apiserver's own need no file.
    pod_security: PodSecurityConfig = KUBE_APISERVER
    components: list[_Component] = field(default_factory=list)
    _owned_folder: bool = False

    @property
    def server(self) -> str:
        return f"https://{self.address}:{API_PORT}"

    @property
    def kubeconfig(self) -> Path:
        assert self.folder is not None
        return self.folder / "admin.kubeconfig"

    @property
    def pki(self) -> ControlPlanePki:
        assert self.folder is not None
        return ControlPlanePki(self.folder / "pki", (self.folder / "pki" / "ca.crt").read_bytes())

    def start(self) -> ControlPlane:
        """Start etcd, the API server and the controller manager; returns once all answer and
        the `default` namespace has its ServiceAccount."""
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="appliance-sim-control-plane-"))
            self._owned_folder = True
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "logs").mkdir(exist_ok=True)
        if not self.address:
            self.address = choose_node_address(
                prefix="127.43", ports=(ETCD_PORT, ETCD_PEER_PORT, API_PORT)
            )
        pki = ControlPlanePki.create(self.folder / "pki", address=self.address)
        try:
            self._start_etcd()
            self._start_apiserver(pki)
            self._client_kubeconfig(pki, self.kubeconfig, "admin", "kubernetes-admin")
            manager = self._start_controller_manager(pki)
            # A cluster is ready for pods once `default` has its ServiceAccount: the controller
            # manager creates it a moment after it starts, and a pod created before is refused
            # ("error looking up service account default/default").
            admin = ssl.create_default_context(cafile=str(pki.ca_file))
            admin.load_cert_chain(pki.cert("admin"), pki.key("admin"))
            account = f"{self.server}/api/v1/namespaces/default/serviceaccounts/default"
            self._wait(manager, account, context=admin)
        except BaseException:
            self.stop()
            raise
        return self

    def _client_kubeconfig(self, pki: ControlPlanePki, path: Path, cert: str, user: str) -> Path:
        """A kubeconfig that authenticates with the client certificate `cert` of the PKI."""
        document = kubeconfig_document(
            self.server, pki.ca_pem, user=user, cert_file=pki.cert(cert), key_file=pki.key(cert)
        )
        return write_kubeconfig(path, document)

    def _launch(self, name: str, argv: list[str]) -> _Component:
        assert self.folder is not None
        log = self.folder / "logs" / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.folder,
                start_new_session=True,
            )
        component = _Component(name, process, log)
        self.components.append(component)
        return component

    def _start_etcd(self) -> None:
        assert self.folder is not None
        client = f"http://{self.address}:{ETCD_PORT}"
        peer = f"http://{self.address}:{ETCD_PEER_PORT}"
        etcd = self._launch(
            "etcd",
            [
                str(self.binaries["etcd"]),
                "--name=sim",
                f"--data-dir={self.folder / 'etcd'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=sim={peer}",
                # A simulator's state dies with it: durability costs seconds per write burst.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        self._wait(etcd, f"{client}/health", context=None)

    def _start_apiserver(self, pki: ControlPlanePki) -> None:
        apiserver = self._launch(
            "kube-apiserver",
            [
                str(self.binaries["kube-apiserver"]),
                f"--etcd-servers=http://{self.address}:{ETCD_PORT}",
                f"--bind-address={self.address}",
                f"--advertise-address={self.address}",
                f"--secure-port={API_PORT}",
                f"--tls-cert-file={pki.cert('apiserver')}",
                f"--tls-private-key-file={pki.key('apiserver')}",
                f"--client-ca-file={pki.ca_file}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki.service_account_public_key}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--authorization-mode=Node,RBAC",
                f"--kubelet-client-certificate={pki.cert('apiserver-kubelet-client')}",
                f"--kubelet-client-key={pki.key('apiserver-kubelet-client')}",
                "--kubelet-preferred-address-types=InternalIP",
                "--allow-privileged=true",
                # Endpoints may not hold loopback addresses: nothing in the simulated cluster
                # dials the `kubernetes` Service, so its endpoints are not reconciled.
                "--endpoint-reconciler-type=none",
                "--profiling=false",
                *self._admission_flags(),
                *self.extra_apiserver_flags,
            ],
        )
        context = ssl.create_default_context(cafile=str(pki.ca_file))
        self._wait(apiserver, f"{self.server}/readyz", context=context)

    def _admission_flags(self) -> list[str]:
        if self.pod_security == KUBE_APISERVER:
            return []
        assert self.folder is not None
        path = self.folder / "admission.json"
        path.write_text(json.dumps(self.pod_security.admission_configuration(), indent=2))
        return [f"--admission-control-config-file={path}"]

    def _start_controller_manager(self, pki: ControlPlanePki) -> _Component:
        assert self.folder is not None
        kubeconfig = self._client_kubeconfig(
            pki,
            self.folder / "controller-manager.kubeconfig",
            "controller-manager",
            "system:kube-controller-manager",
        )
        return self._launch(
            "kube-controller-manager",
            [
                str(self.binaries["kube-controller-manager"]),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                # No front proxy: do not look up its request-header CA (it would only log errors).
                "--authentication-skip-lookup=true",
                f"--bind-address={self.address}",
                "--secure-port=10257",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--root-ca-file={pki.ca_file}",
                "--use-service-account-credentials=true",
                f"--controllers={CONTROLLERS}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--pvclaimbinder-sync-period=5s",
                # Its leader Lease (kube-system/kube-controller-manager) is how `appliance-sim
                # replay` tells a cluster with workload controllers from one without.
                "--leader-elect=true",
                # Its client's default limit (20 requests/s, bursts of 30) spaces out the start:
                # each controller's discovery and informers wait their turn, about 5.5 of the
                # 9.4 s before `default` has its ServiceAccount. One small cluster's controllers
                # never come near kube-apiserver's own limits (bench/control_plane.py: start).
                "--kube-api-qps=1000",
                "--kube-api-burst=2000",
                "--profiling=false",
            ],
        )

    def _wait(self, component: _Component, url: str, *, context: ssl.SSLContext | None) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        last = ""
        while time.monotonic() < deadline:
            if component.process.poll() is not None:
                raise ControlPlaneError(
                    f"{component.name} exited with {component.process.returncode}:\n"
                    + _tail(component.log)
                )
            try:
                with urllib.request.urlopen(url, timeout=2, context=context) as answer:  # noqa: S310 - our loopback URL
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.25)
        raise ControlPlaneError(
            f"{component.name} did not answer {url} within {_START_TIMEOUT:.0f}s ({last}):\n"
            + _tail(component.log)
        )

    def stop(self) -> None:
        """Stop every component, newest first; remove the state folder if we made it."""
        while self.components:
            terminate_group(self.components.pop().process, grace=10)
        if self._owned_folder and self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self._owned_folder = False

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {log})"
